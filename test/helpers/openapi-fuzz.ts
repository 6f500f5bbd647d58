// Schema-driven request fuzzing for test/api/fuzz.test.ts: fast-check arbitraries of request
// bodies derived from an OpenAPI 3.1 document (and mutated into hostile ones), hostile path
// segments and query values, the problem+json contract every error must meet, and a one-statement
// snapshot of what the database holds (to check that a refused request stored nothing).
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { resultRows, type Db } from '../../db/client.ts';
import { withPlatform } from '../../db/tenant.ts';

// ---------------------------------------------------------------------------------------------
// The OpenAPI document, as far as the fuzzer reads it.

export interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  example?: unknown;
  default?: unknown;
}

export interface Parameter { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; schema?: Schema }

export interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> }; security?: unknown[] }>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: string;
  path: string;
  params: Parameter[];
  /** The JSON request body's schema, when the operation takes one. */
  body: Schema | undefined;
  bodyRequired: boolean;
  bodyTypes: string[];
}

export function operationsOf(doc: OpenApiDoc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => {
    const content = op.requestBody?.content ?? {};
    return {
      method: method.toUpperCase(), path, params: op.parameters ?? [],
      body: content['application/json']?.schema, bodyRequired: op.requestBody?.required ?? false, bodyTypes: Object.keys(content),
    };
  }));
}

export function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(s.$ref)?.[1];
    const target = name ? doc.components?.schemas?.[name] : undefined;
    if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
    s = target;
  }
  return s;
}

/** A schema with every property optional (what a merge patch of that object may hold). */
export function allOptional(schema: Schema): Schema {
  return { ...schema, required: [] };
}

// ---------------------------------------------------------------------------------------------
// JSON text the fuzzer controls exactly.

/** A piece of JSON text sent verbatim (numbers JavaScript cannot write: `-0`, `1e400`, `1.0`). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object with an own enumerable key that an object literal cannot have (`__proto__`). */
export function objectWith(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** JSON.stringify, but RawJson is written verbatim and -0 as `-0`. Iterative: deep values are fine. */
export function toJson(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  const CLOSE = Symbol('close');
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'object' && v !== null && (v as { [CLOSE]?: string })[CLOSE] !== undefined) { out.push((v as { [CLOSE]: string })[CLOSE]); continue; }
    if (v instanceof RawJson) out.push(v.text);
    else if (typeof v === 'number') out.push(Object.is(v, -0) ? '-0' : JSON.stringify(v));
    else if (Array.isArray(v)) {
      out.push('[');
      stack.push({ [CLOSE]: ']' });
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i] === undefined ? null : v[i]);
        if (i > 0) stack.push(new RawJson(','));
      }
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).filter(([, item]) => item !== undefined);
      out.push('{');
      stack.push({ [CLOSE]: '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push(entries[i]![1]);
        stack.push(new RawJson(`${JSON.stringify(entries[i]![0])}:`));
        if (i > 0) stack.push(new RawJson(','));
      }
    } else out.push(JSON.stringify(v ?? null));
  }
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// Values derived from a schema (valid, or nearly: the schema's prose rules are not modelled).

/** Values for properties by name, where the schema alone cannot say what passes (a CIDR inside a grant). */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

const MAX_DEPTH = 6;

export function schemaValue(doc: OpenApiDoc, schema: Schema, hints: Hints = {}, key?: string, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  const fromSchema = schemaValueNoHint(doc, s, hints, depth);
  const hint = key !== undefined ? hints[key] : undefined;
  return hint ? fc.oneof({ arbitrary: hint, weight: 4 }, { arbitrary: fromSchema, weight: 1 }) : fromSchema;
}

function schemaValueNoHint(doc: OpenApiDoc, s: Schema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => schemaValue(doc, a, hints, undefined, depth)));
  if (s.allOf) return schemaValue(doc, { ...s.allOf.reduce((acc, part) => ({ ...acc, ...resolve(doc, part) }), {} as Schema) }, hints, undefined, depth);
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t) => schemaValueNoHint(doc, { ...s, type: t }, hints, depth)));
  switch (s.type) {
    case 'object': {
      if (depth >= MAX_DEPTH) return fc.constant({});
      const props = s.properties ?? {};
      if (Object.keys(props).length === 0) {
        const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
        return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), extra ? schemaValue(doc, extra, hints, undefined, depth + 1) : fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      }
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, schemaValue(doc, v, hints, k, depth + 1)]));
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
    case 'array': {
      const item = s.items ? schemaValue(doc, s.items, hints, undefined, depth + 1) : fc.jsonValue({ maxDepth: 1 });
      const min = s.minItems ?? 0;
      return fc.array(item, { minLength: min, maxLength: Math.max(min, Math.min(s.maxItems ?? 3, 3)) });
    }
    case 'string': {
      const options: fc.Arbitrary<string>[] = [];
      if (s.pattern) options.push(fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? Infinity)));
      else options.push(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 16, 16) }));
      if (typeof s.example === 'string') options.push(fc.constant(s.example));
      return fc.oneof(...options);
    }
    case 'integer':
    case 'number': {
      const min = s.minimum ?? 0;
      const max = s.maximum ?? Math.max(min + 100_000, 100_000);
      const ints = fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
      return s.type === 'integer' ? ints : fc.oneof(ints, fc.double({ min, max, noNaN: true }));
    }
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    default: return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile values.

const CONTROL_CODES = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  // Control characters (NUL first), embedded in otherwise valid-looking text.
  { arbitrary: fc.tuple(fc.constantFrom(...CONTROL_CODES), fc.constantFrom('', 'web', '10.0.0.1', '64512:1', 'a b')).map(([c, s]) => `${s.slice(0, 2)}${String.fromCharCode(c)}${s.slice(2)}`), weight: 3 },
  { arbitrary: fc.constantFrom('\u0000', 'a\u0000b', 'line\nbreak', 'crlf\r\n', '\ttab', 'esc\u001b[31m', 'del\u007f', 'nel\u0085', 'c1\u009f'), weight: 3 },
  // Unicode oddities: lone surrogates, bidi controls, zero-width, BOM, emoji, combining marks, line separators.
  fc.constantFrom('\ud800', '\udfff', 'a\udc00b', '\ud83d', 'web\u202e', '\u202ebew', '\u200f', '\u200b', '\ufeffweb', '\u{1F600}', 'e\u0301', 'ｗｅｂ',
    '\u2028', '\u2029', '\u00a0', 'İ', 'ß', '\ufffd', '\uffff', '\u{10FFFF}'),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((codes) => String.fromCharCode(...codes)),
  fc.string({ unit: 'binary', maxLength: 12 }),
  // Lengths around the bounds (64 Ki characters) and beyond; the largest stays under the 1 MiB body limit.
  fc.constantFrom(63, 64, 65, 254, 255, 256, 4097, 8193, 65_535, 65_536, 65_537, 70_000).map((n) => 'a'.repeat(n)),
  fc.constantFrom(65_536, 70_000).map((n) => '\u00e9'.repeat(n)),
  // Injection-shaped and grammar-edge text.
  fc.constantFrom('', ' ', '  web  ', "'; drop table tenants; --", '../../etc/passwd', '%00', '${jndi:ldap://x}', '{{7*7}}', '<script>', 'null', 'true', '0',
    '-1', '1e3', '0x10', '10.0.0.1/33', '::ffff:10.0.0.1', '10.0.0.01', 'fe80::1%eth0', '0.0.0.0/0', '::/0', '4294967296', '65536:1', 'large:1:2:3:4', '99999999999s', '-5s', '1h', '1.5s', 'Web', 'WEB'),
);

export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
    1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 5e-324, 1.5, 0.1, -0.5, -1, 0, 4294967295, 4294967296, 65536, 16385, 129, 33, 256, 60001, 9, 1e21),
  fc.constantFrom(new RawJson('-0'), new RawJson('1e309'), new RawJson('-1e400'), new RawJson('1.0'), new RawJson('1E2'), new RawJson('100000000000000000000000000000'),
    new RawJson('0.0000000000000000000000000001'), new RawJson('9007199254740993'), new RawJson('-9007199254740993'), new RawJson('2147483648.0')),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

function nested(depth: number, array: boolean): unknown {
  return new RawJson(array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

export const hostileKey: fc.Arbitrary<string> = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '',
  'a\u0000', '\u0000', 'k\n', '\ud800', 'x'.repeat(300), 'name ', 'NAME', '$where', 'tenantId', 'tenant_id', 'id', 'createdAt', 'd', '0');

const plain: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, [1, 'a'], { a: 1 }, '', 'string', [null], [[]], { '': '' }),
  fc.jsonValue({ maxDepth: 2 }),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 5 },
  { arbitrary: hostileNumber, weight: 4 },
  { arbitrary: plain, weight: 3 },
  { arbitrary: fc.constantFrom(30, 31, 32, 33, 34, 100, 5000).chain((d) => fc.boolean().map((a) => nested(d, a))), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), plain).map(([k, v]) => objectWith([[k, v ?? { polluted: true }]])), weight: 2 },
  { arbitrary: fc.constantFrom(objectWith([['constructor', { prototype: { polluted: true } }]]), objectWith([['__proto__', { isAdmin: true, role: 'platform-admin' }]])), weight: 1 },
  { arbitrary: fc.constantFrom(999, 1000, 1001, 1500).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))), weight: 1 },
  { arbitrary: fc.constantFrom(65, 10_001, 70_000).map((n) => Array.from({ length: n }, () => 0)), weight: 1 },
  { arbitrary: fc.array(hostileString, { minLength: 1, maxLength: 3 }), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// Bodies: a schema value with mutations, or a whole body that is not one.

export type BodyPlan = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string };

type Mutation =
  | { op: 'taint'; at: number; insert: string; position: number }
  | { op: 'bump'; at: number; value: unknown }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'wrap'; at: number; inArray: boolean };

/** What `taint` puts into a valid string: NUL most of all (PostgreSQL refuses it in text), other controls, odd unicode, length. */
export const taintText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('\u0000', 'a\u0000'), weight: 4 },
  { arbitrary: fc.constantFrom(...CONTROL_CODES).map((c) => String.fromCharCode(c)), weight: 2 },
  fc.constantFrom('\n', '\r\n', '\t', '\ud800', '\udfff', '\u202e', '\u200b', '\ufeff', '\u{1F600}', '\u0301', '\u2028', ' ', '%00', '\\', '"', "'", '/', '..', '*', '%'),
  fc.constantFrom(64, 65_537).map((n) => 'x'.repeat(n)),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Into a string of the valid value (its grammar otherwise kept): the classic way past a validator.
  { arbitrary: fc.record({ op: fc.constant('taint' as const), at: fc.nat(), insert: taintText, position: fc.nat() }), weight: 5 },
  // A number of the valid value replaced by one at or beyond a bound.
  { arbitrary: fc.record({ op: fc.constant('bump' as const), at: fc.nat(), value: hostileNumber }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(hostileKey, fc.stringMatching(/^[a-zA-Z]{1,10}$/)), value: hostileValue }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('wrap' as const), at: fc.nat(), inArray: fc.boolean() }), weight: 1 },
);

/** Every place inside a (plain) JSON value: [container, key]. */
function places(value: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const found: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const stack = [value];
  while (stack.length > 0 && found.length < 500) {
    const v = stack.pop();
    if (v instanceof RawJson || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((item, i) => { found.push([v, i]); stack.push(item); });
    else for (const [k, item] of Object.entries(v)) { found.push([v as Record<string, unknown>, k]); stack.push(item); }
  }
  return found;
}

/** Containers (objects and arrays) inside a value, the value itself first. */
function containers(value: unknown): Array<Record<string, unknown> | unknown[]> {
  const found: Array<Record<string, unknown> | unknown[]> = [];
  const stack = [value];
  while (stack.length > 0 && found.length < 500) {
    const v = stack.pop();
    if (v instanceof RawJson || v === null || typeof v !== 'object') continue;
    found.push(v as Record<string, unknown> | unknown[]);
    for (const item of Object.values(v)) stack.push(item);
  }
  return found;
}

function taint(text: string, insert: string, position: number): string {
  const at = position % (text.length + 1);
  return text.slice(0, at) + insert + text.slice(at);
}

/** One copy of `value` per string in it (up to `max`), that string with a NUL inserted: a fixed case per field. */
export function nulInEachString(value: unknown, max = 8): unknown[] {
  const count = places(value).filter(([c, k]) => typeof (c as Record<string | number, unknown>)[k] === 'string').length;
  return Array.from({ length: Math.min(count, max) }, (_, i) => applyMutation(clone(value), { op: 'taint', at: i, insert: '\u0000', position: 1 }));
}

/** A deep copy that keeps RawJson and own `__proto__` keys (structuredClone keeps neither). */
export function clone(value: unknown): unknown {
  if (value instanceof RawJson || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(clone);
  return objectWith(Object.entries(value).map(([k, v]) => [k, clone(v)]));
}

function applyMutation(root: unknown, m: Mutation): unknown {
  if (m.op === 'add') {
    const targets = containers(root).filter((c) => !Array.isArray(c)) as Array<Record<string, unknown>>;
    if (targets.length === 0) return root;
    Object.defineProperty(targets[m.at % targets.length]!, m.key, { value: clone(m.value), enumerable: true, writable: true, configurable: true });
    return root;
  }
  if (m.op === 'taint' || m.op === 'bump') {
    const type = m.op === 'taint' ? 'string' : 'number';
    const spots = places(root).filter(([c, k]) => typeof (c as Record<string | number, unknown>)[k] === type);
    if (spots.length === 0) {
      if (typeof root === 'string' && m.op === 'taint') return taint(root, m.insert, m.position);
      return typeof root === type ? clone(m.op === 'bump' ? m.value : root) : root;
    }
    const [container, key] = spots[m.at % spots.length]!;
    const old = (container as Record<string | number, unknown>)[key];
    (container as Record<string | number, unknown>)[key] = m.op === 'taint' ? taint(old as string, m.insert, m.position) : clone(m.value);
    return root;
  }
  const spots = places(root);
  if (spots.length === 0) return m.op === 'set' ? clone(m.value) : m.op === 'wrap' ? (m.inArray ? [root] : { value: root }) : root;
  const [container, key] = spots[m.at % spots.length]!;
  if (m.op === 'set') (container as Record<string | number, unknown>)[key] = clone(m.value);
  else if (m.op === 'delete') {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
  } else {
    const old = (container as Record<string | number, unknown>)[key];
    (container as Record<string | number, unknown>)[key] = m.inArray ? [old] : { value: old };
  }
  return root;
}

/** Whole bodies that are no object of the schema at all. */
export const wholeBody: fc.Arbitrary<BodyPlan> = fc.oneof(
  fc.constantFrom<BodyPlan>(
    { kind: 'raw', text: '' }, { kind: 'raw', text: ' \n' }, { kind: 'raw', text: 'null' }, { kind: 'raw', text: '[]' }, { kind: 'raw', text: '{}' },
    { kind: 'raw', text: '"string"' }, { kind: 'raw', text: '42' }, { kind: 'raw', text: '-0' }, { kind: 'raw', text: '1e999' }, { kind: 'raw', text: 'true' },
    { kind: 'raw', text: 'not json' }, { kind: 'raw', text: '{"a":' }, { kind: 'raw', text: '{"a":1}}' }, { kind: 'raw', text: "{'a':1}" }, { kind: 'raw', text: '{"a":1,}' },
    { kind: 'raw', text: '\ufeff{}' }, { kind: 'raw', text: '{"name":"a","name":"b"}' }, { kind: 'raw', text: '{"__proto__":{"polluted":true}}' },
    { kind: 'raw', text: '{"a":"\\ud800"}' }, { kind: 'raw', text: '{"a":"\\u0000"}' }, { kind: 'raw', text: '{"a":NaN}' }, { kind: 'raw', text: '{"a":Infinity}' },
    { kind: 'raw', text: '\u0000' }, { kind: 'raw', text: '{"a":1}\u0000' }, { kind: 'raw', text: 'a=1&b=2' }, { kind: 'raw', text: '<xml/>' },
    { kind: 'raw', text: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }, { kind: 'raw', text: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}` },
    { kind: 'raw', text: `{"a":"${'x'.repeat(1_100_000)}"}` },
  ),
  fc.jsonValue({ maxDepth: 3 }).map((value): BodyPlan => ({ kind: 'json', value })),
  hostileValue.map((value): BodyPlan => ({ kind: 'json', value })),
);

/** A body for an operation: mostly its schema's value, mutated; sometimes a whole hostile body; sometimes none. */
export function bodyPlan(base: fc.Arbitrary<unknown>): fc.Arbitrary<BodyPlan> {
  return fc.oneof(
    { arbitrary: base.map((value): BodyPlan => ({ kind: 'json', value })), weight: 2 },
    {
      // Mostly one mutation: one hostile value in an otherwise valid body gets furthest.
      arbitrary: fc.tuple(base, fc.oneof({ arbitrary: fc.array(mutation, { minLength: 1, maxLength: 1 }), weight: 3 }, fc.array(mutation, { minLength: 2, maxLength: 3 })))
        .map(([value, ms]): BodyPlan => ({ kind: 'json', value: ms.reduce((v, m) => applyMutation(v, m), clone(value)) })),
      weight: 8,
    },
    { arbitrary: base.map((value): BodyPlan => ({ kind: 'json', value: [value] })), weight: 1 },
    { arbitrary: wholeBody, weight: 3 },
    { arbitrary: fc.constant<BodyPlan>({ kind: 'none' }), weight: 1 },
  );
}

export function bodyText(plan: BodyPlan): string | undefined {
  return plan.kind === 'none' ? undefined : plan.kind === 'raw' ? plan.text : toJson(plan.value);
}

// ---------------------------------------------------------------------------------------------
// Paths and queries. Segments are inserted verbatim: percent-encoding is part of the test.

export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%00', 'a%00b', '%0a', '%0d%0a', '%1b', '%7f', '%c2%85', '..%2F..', '..%2f..%2fetc%2fpasswd', '..', '.', '%2e%2e', '%2F', '%252F', '%25', '%',
    '%ZZ', '%E0%A4%A', '%E0%A4', '%C0%AE', '%ED%A0%80', '%FF', '%C3%A9', '%F0%9F%98%80', '%E2%80%AE', '%EF%BB%BF', encodeURIComponent('日本'), 'é',
    'WEB', 'web%20', '%20web', 'web.', '-web', 'web-', 'a..b', '1', '0', '-1', '+1', '1e3', '0x10', '01', '2147483648', '99999999999999999999',
    '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '%7B%7D', ';', 'a;b=c', '%3F', '%23', '~', '*', '__proto__', 'constructor'),
  fc.constantFrom(64, 253, 300, 5000).map((n) => 'a'.repeat(n)),
  fc.uuid(),
  fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?$/),
);

/** A query value: `raw` is inserted verbatim, otherwise the text is percent-encoded. */
export type QueryValue = { raw: string } | { text: string };

const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

export const hostileQueryValue: fc.Arbitrary<QueryValue> = fc.oneof(
  fc.constantFrom('+1', '0x10', '1e3', '-1', '0', '1.5', ' 1', '1 ', '01', '', '500', '501', '2147483648', '9'.repeat(30), 'NaN', 'Infinity', 'true', 'TRUE', '1,2', '[1]',
    'abc', '!!!', 'eyJ', '=', 'x'.repeat(4096), 'x'.repeat(4097), 'x'.repeat(20_000), '\u{1F600}', '\u202e', '\ud800',
  ).map((text): QueryValue => ({ text })),
  fc.constantFrom('%00', 'a%00', '%0a', '%1f', '%7f', '%c2%85', '%E0%A4%A', '%', '%%', '%ZZ', '%C0%AE', '%ED%A0%80', '+', 'a+b', '1%2B1', '%2B1', '%20', '%FF').map((raw): QueryValue => ({ raw })),
  // Cursors: base64url of JSON this API never wrote, and of JSON holding what it must refuse.
  fc.constantFrom(
    '["a\\u0000b"]', '[1,"a\\u0000b"]', '["x"]', '[1]', '[9007199254740993]', '[1e400]', '["9007199254740991","00000000-0000-0000-0000-000000000000"]',
    '["99999999999999999999","00000000-0000-0000-0000-000000000000"]', '[-9007199254740991,"00000000-0000-0000-0000-000000000000"]', '["abc","not-a-uuid"]',
    '[9007199254740991,"zz"]', '["1","\\ud800"]', `["${'x'.repeat(256)}"]`, `["${'x'.repeat(257)}"]`, '[null]', '{"a":1}', 'null', '[]', '[[]]', '[{}]', '["",""]',
    '["\\u2028"]', '[0.5,"x"]', '[true]', '"x"',
  ).map((json): QueryValue => ({ text: b64url(json) })),
  fc.string({ unit: 'binary', maxLength: 20 }).map((text): QueryValue => ({ text: text.replace(/[\ud800-\udfff]/g, '') })),
  fc.base64String({ maxLength: 40 }).map((text): QueryValue => ({ text })),
);

/** encodeURIComponent, but a lone surrogate is written as its WTF-8 bytes (`%ED%A0%80`) instead of throwing. */
export function encodeLoose(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[^]/gu, (ch) => {
    if (ch.length === 2 || !/[\ud800-\udfff]/.test(ch)) return encodeURIComponent(ch);
    const c = ch.charCodeAt(0);
    return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
  });
}

export function queryString(entries: Array<[string, QueryValue]>): string {
  if (entries.length === 0) return '';
  return `?${entries.map(([k, v]) => `${encodeLoose(k)}=${'raw' in v ? v.raw : encodeLoose(v.text)}`).join('&')}`;
}

// ---------------------------------------------------------------------------------------------
// YAML documents (POST …/imports takes MetalLB objects as YAML).

/** MetalLB objects as `kubectl get -o yaml` prints them: a pool inside `v4` (a /16's first two octets) and an L2 advertisement. */
export const metallbYaml = (v4: string) => fc.tuple(fc.stringMatching(/^imp-[a-z0-9]{1,10}$/), fc.integer({ min: 100, max: 250 })).map(([name, octet]) => [
  'apiVersion: metallb.io/v1beta1', 'kind: IPAddressPool', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', 'spec:', '  addresses:', `  - ${v4}.${octet}.0/28`,
  '---', 'apiVersion: metallb.io/v1beta1', 'kind: L2Advertisement', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', 'spec:', `  ipAddressPools: [${name}]`, '',
].join('\n'));

/**
 * YAML that is no MetalLB list: alias bombs, nesting, tags, prototype keys, many documents. The
 * nesting stays below what overflows the parser's stack: past that, a second such request kills the
 * process (see the child-process test in test/api/fuzz.test.ts), which would take the fuzz run with it.
 */
export const HOSTILE_YAML = [
  ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n'),
  `${'['.repeat(400)}${']'.repeat(400)}`,
  `${'{a: '.repeat(400)}1${'}'.repeat(400)}`,
  Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}- `).join('\n'),
  'a: &x\n  b: *x\n',
  '&x [*x]',
  '!!js/function "function () { return 1 }"',
  '--- !!binary aGVsbG8=',
  '!<tag:yaml.org,2002:js/undefined> ""',
  'kind: IPAddressPool\nmetadata:\n  __proto__:\n    polluted: true\n  name: proto\nspec:\n  addresses: [10.0.0.0/8]\n',
  '<<: {__proto__: {polluted: true}}\nkind: List\nitems: []\n',
  'apiVersion: v1\nkind: List\nitems:\n- constructor: {prototype: {polluted: true}}\n',
  '%YAML 9.9\n---\na: 1\n',
  '---\n'.repeat(5_000),
  `kind: List\nitems: [${Array.from({ length: 200 }, (_, i) => `{apiVersion: metallb.io/v1beta1, kind: Community, metadata: {name: c${i}, namespace: metallb-system}, spec: {communities: [{name: n${i}, value: "64512:${i}"}]}}`).join(', ')}]`,
  'kind: IPAddressPool\nmetadata: {name: dup, name: dup2}\nspec: {addresses: [10.0.0.0/8]}\n',
  'kind: IPAddressPool\nmetadata: {name: 12345678901234567890123456789}\nspec: {addresses: [1e400, .nan, -.inf, 0x10, 0o17]}\n',
  '\ufeffkind: IPAddressPool\n\tmetadata: {}\n',
  'a: "\\u0000"\nb: "\\x00"\nc: "\\ud800"\n',
  '? [a, b]\n: complex key\n? {c: d}\n: other\n',
];

// ---------------------------------------------------------------------------------------------
// The error contract.

/** A problem's `code`: kebab-case words of letters (every status-level code in the docs is one). */
export const KEBAB = /^[a-z]+(-[a-z]+)*$/;
/**
 * A field code (`errors[].code`): kebab-case, whose words may hold digits. The render core's
 * documented codes do (`l2-bgp-field`, `bfd-echo-ipv6`, `local-peering-needs-frr-9`) and codes are
 * never renamed, so the letters-only form would fail on documented codes.
 */
export const FIELD_KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Every code docs/problem-codes.md documents: first cells of its tables, or the second after a status. */
export function documentedCodes(markdown: string): Set<string> {
  const codes = new Set<string>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const cell = /^\d{3}$/.test(cells[0] ?? '') ? cells[1] : cells[0];
    for (const m of (cell ?? '').matchAll(/`([^`]+)`/g)) if (FIELD_KEBAB.test(m[1]!)) codes.add(m[1]!);
  }
  return codes;
}

export interface Reply { status: number; headers: Headers; text: string; body: unknown }

/** What is wrong with a response: a 5xx, or an error that breaks the problem+json contract. */
export function contractViolations(res: Reply, documented: Set<string>): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`a ${res.status}`);
  const requestId = res.headers.get('x-request-id');
  if (!requestId) problems.push('no X-Request-Id header');
  if (res.status < 400) return problems;
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/problem\+json(\s*;|$)/.test(type)) problems.push(`content-type ${JSON.stringify(type)}, not application/problem+json`);
  const p = res.body as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object' || Array.isArray(p)) return [...problems, 'the body is not a JSON object'];
  for (const field of ['type', 'title', 'detail', 'requestId', 'code'] as const) {
    if (typeof p[field] !== 'string' || (field !== 'requestId' && p[field] === '')) problems.push(`\`${field}\` is not a non-empty string`);
  }
  if (p.status !== res.status) problems.push(`\`status\` ${JSON.stringify(p.status)} is not the HTTP status ${res.status}`);
  if (p.requestId !== requestId) problems.push(`\`requestId\` ${JSON.stringify(p.requestId)} is not the X-Request-Id ${JSON.stringify(requestId)}`);
  if (typeof p.code === 'string') {
    if (!KEBAB.test(p.code)) problems.push(`\`code\` ${JSON.stringify(p.code)} is not kebab-case`);
    else if (!documented.has(p.code)) problems.push(`\`code\` ${JSON.stringify(p.code)} is not in docs/problem-codes.md`);
    if (typeof p.type === 'string' && !p.type.endsWith(`/${p.code}`)) problems.push(`\`type\` ${JSON.stringify(p.type)} does not name the code`);
  }
  if (p.errors !== undefined) {
    if (!Array.isArray(p.errors)) problems.push('`errors` is not an array');
    else {
      for (const e of p.errors as Array<Record<string, unknown>>) {
        if (typeof e?.code !== 'string' || !FIELD_KEBAB.test(e.code)) problems.push(`errors[].code ${JSON.stringify(e?.code)} is not kebab-case`);
      }
    }
  }
  return problems;
}

/** Field codes (`errors[].code`) that docs/problem-codes.md does not list: reported, not failed. */
export function undocumentedFieldCodes(res: Reply, documented: Set<string>): string[] {
  const errors = (res.body as { errors?: unknown } | undefined)?.errors;
  if (res.status < 400 || !Array.isArray(errors)) return [];
  return errors.map((e) => (e as { code?: unknown })?.code).filter((c): c is string => typeof c === 'string' && FIELD_KEBAB.test(c) && !documented.has(c));
}

// ---------------------------------------------------------------------------------------------
// What the database holds: one statement, row counts of every table and max(updated_at) where
// there is one.

export const REQUIRED_TABLES = ['tenants', 'address_grants', 'tenant_policies', 'clusters', 'pools', 'pool_cidrs', 'bfd_profiles', 'peers', 'communities',
  'advertisements', 'advertisement_pools', 'advertisement_peers', 'enrollment_tokens', 'agents', 'config_revisions', 'api_tokens', 'audit_events', 'address_holds'];

export async function snapshotter(db: Db): Promise<{ tables: string[]; mutable: string[]; take: () => Promise<Record<string, string | null>> }> {
  const tables = resultRows<{ table_name: string }>(await db.execute(sql`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`)).map((r) => r.table_name);
  const mutable = resultRows<{ table_name: string }>(await db.execute(sql`
    select table_name from information_schema.columns where table_schema = 'public' and column_name = 'updated_at' order by table_name`)).map((r) => r.table_name);
  const missing = REQUIRED_TABLES.filter((t) => !tables.includes(t));
  if (missing.length > 0) throw new Error(`tables missing from the schema: ${missing.join(', ')}`);
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const fields = [
    ...tables.map((t) => `'${t}', (select count(*) from ${q(t)})`),
    ...mutable.map((t) => `'${t}.updated_at', (select max(updated_at) from ${q(t)})::text`),
  ];
  // json_build_object takes at most 100 arguments: one object per chunk of 40 fields.
  const chunks: string[] = [];
  for (let i = 0; i < fields.length; i += 40) chunks.push(`json_build_object(${fields.slice(i, i + 40).join(', ')})::jsonb`);
  const statement = sql.raw(`select (${chunks.join(' || ')})::text as snapshot`);
  return {
    tables, mutable,
    take: async () => JSON.parse(resultRows<{ snapshot: string }>(await withPlatform(db, (tx) => tx.execute(statement)))[0]!.snapshot) as Record<string, string | null>,
  };
}

export function snapshotDiff(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`);
}

// ---------------------------------------------------------------------------------------------

/** Text for a report: escapes control characters, cuts the middle of long strings. */
export function preview(text: string | undefined, max = 300): string {
  if (text === undefined) return '(none)';
  const cut = text.length > max ? `${text.slice(0, max * 0.7)}…[${text.length} chars]…${text.slice(-max * 0.2)}` : text;
  return JSON.stringify(cut);
}
