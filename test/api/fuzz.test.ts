// A schema-driven fuzz test of every operation in /openapi.json (fast-check): bodies derived from
// each operation's request schema and then mutated (wrong types, missing and extra fields, control
// characters, lone surrogates, 64 KiB strings, numbers beyond every bound, deep nesting,
// `__proto__` keys, no body, not JSON), hostile path segments and query values, under every role's
// token, none, a garbage one and an agent's assertion. Every response must be below 500; every
// error must be application/problem+json with a documented kebab-case code; and a request answered
// 4xx must have stored nothing (one snapshot of every table's row count and newest updated_at).
//
// FC_SEED=<n> replays a run (the seed is printed as a diagnostic); FUZZ_RUNS=<n> sets the number of
// generated requests per operation, FUZZ_TRACE=1 lists every request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { JWK } from 'jose';
import { AgentClient, generateAgentKey, publicPart } from '../../agents/client.ts';
import { seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';
import { eq } from 'drizzle-orm';
import { rollouts, tenants } from '../../db/schema.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import {
  allOptional, bodyPlan, bodyText, contractViolations, documentedCodes, hostileQueryValue, hostileSegment, operationsOf, preview, queryString,
  resolve, schemaValue, snapshotDiff, snapshotter, undocumentedFieldCodes, HOSTILE_YAML, metallbYaml, nulInEachString,
  type BodyPlan, type Hints, type OpenApiDoc, type Operation, type QueryValue, type Reply, type Schema,
} from '../helpers/openapi-fuzz.ts';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 2 ** 31) | 0;
const RUNS = Number(process.env.FUZZ_RUNS ?? 24);
/** FUZZ_TRACE=1: every request and its answer as a diagnostic. */
const TRACE = Boolean(process.env.FUZZ_TRACE);
const SLUG = 'fuzz';
const OTHER = 'fuzz-other';
const VICTIM = 'fuzz-victim';
const POLICY = { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] };

/**
 * Bodies of the objects the tenant-scoped paths name, where a collection's required fields alone
 * would not do; every other collection in the document gets one made of its required fields. Each
 * is recreated when a fuzzed request deleted it.
 */
const KNOWN_OBJECTS: Record<string, Record<string, unknown>> = {
  // A MetalLB cluster (it takes L2 advertisements, which host FRR cannot); the agent's cluster is a host FRR one.
  clusters: { name: 'edge', backend: 'metallb-frr-k8s', labels: { site: 'edge' } },
  // Carved (not fixed CIDRs) and only for `edge`: the agent's cluster never holds its space, so it can be created again.
  pools: { name: 'web', allocate: { family: 4, prefixLength: 28 }, clusterSelector: { matchLabels: { site: 'edge' } } },
  'bfd-profiles': { name: 'fast' },
  peers: { name: 'tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1' },
  communities: { name: 'no-adv', value: '65535:65282' },
  advertisements: { name: 'announce', type: 'bgp' },
  'bgp-advertisements': { name: 'announce' },
  'l2-advertisements': { name: 'announce', clusterSelector: { matchLabels: { site: 'edge' } } },
};
/** collection → the object its item paths name (filled from the document). */
const OBJECTS: Record<string, { name: string; body: Record<string, unknown> }> = {};
/** The cluster with enrolled agents: the target of the cluster's sub-resources, never deleted. */
const HOME = 'home';

type Auth = 'platform-admin' | 'tenant-admin' | 'tenant-viewer' | 'other-tenant-admin' | 'none' | 'garbage' | 'agent' | 'victim-agent';
type Segment = { real: true } | { raw: string };
interface FuzzRequest {
  auth: Auth;
  garbage: string;
  segments: Record<string, Segment>;
  query: Array<[string, QueryValue]>;
  ifMatch: string | undefined;
  contentType: string | null;
  body: BodyPlan;
}

let h: Harness;
let doc: OpenApiDoc;
let documented: Set<string>;
let snapshot: Awaited<ReturnType<typeof snapshotter>>;
const tokens = {} as Record<'platform-admin' | 'tenant-admin' | 'tenant-viewer' | 'other-tenant-admin', string>;
const state = {
  agent: undefined as unknown as AgentClient,
  victimAgent: undefined as unknown as AgentClient,
  victimAgentId: '', victimEnrollmentTokenId: '', victimApiTokenId: '', v6GrantId: '', v6Grant: '', v4Grant: '',
  enrollToken: '',
  publicJwks: [] as JWK[],
};
let requests = 0;
const undocumentedFields = new Map<string, string>();

const admin = (method: string, path: string, body?: unknown) => send(method, path, { authorization: `Bearer ${tokens['platform-admin']}` }, body === undefined ? undefined : JSON.stringify(body));

async function send(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<Reply> {
  requests++;
  const res = await h.app.request(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

async function mustCreate(path: string, body: unknown, token = tokens['tenant-admin']): Promise<Reply> {
  const res = await send('POST', path, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify(body));
  assert.ok(res.status === 201 || res.status === 200, `POST ${path}: ${res.status} ${res.text}`);
  return res;
}

async function enrollAgent(): Promise<AgentClient> {
  const minted = await mustCreate(`/v1/tenants/${SLUG}/clusters/${HOME}/enrollment-tokens`, {});
  const agent = h.agentClient();
  await agent.enroll((minted.body as { token: string }).token, { privateJwk: await generateAgentKey(), agentVersion: '0.1.0-fuzz' });
  return agent;
}

async function mintEnrollToken(): Promise<void> {
  state.enrollToken = ((await mustCreate(`/v1/tenants/${SLUG}/clusters/${HOME}/enrollment-tokens`, {})).body as { token: string }).token;
}

async function ensureObject(collection: string): Promise<void> {
  const { name, body } = OBJECTS[collection]!;
  const path = `/v1/tenants/${SLUG}/${collection}`;
  const found = await send('GET', `${path}/${name}`, { authorization: `Bearer ${tokens['tenant-admin']}` }, undefined);
  if (found.status === 404) await mustCreate(path, body);
}

async function ensureV6Grant(): Promise<void> {
  const grants = (await admin('GET', `/v1/tenants/${SLUG}/grants?limit=500`)).body as { items: Array<{ id: string; cidr: string }> };
  const v6 = grants.items.find((g) => g.cidr === state.v6Grant) ?? ((await mustCreate(`/v1/tenants/${SLUG}/grants`, { cidr: state.v6Grant }, tokens['platform-admin'])).body as { id: string });
  state.v6GrantId = v6.id;
}

/** After a fuzzed write succeeded: put back what the next requests rely on. */
async function repair(op: Operation): Promise<void> {
  const item = /^\/v1\/tenants\/\{tenant\}\/([a-z0-9-]+)\/\{name\}$/.exec(op.path)?.[1];
  if (op.method === 'DELETE' && op.path === '/v1/tenants/{tenant}') {
    if ((await admin('GET', `/v1/tenants/${VICTIM}`)).status === 404) await mustCreate('/v1/tenants', { slug: VICTIM, name: 'Victim' }, tokens['platform-admin']);
  } else if (op.path === '/v1/tenants/{tenant}/policy') {
    const res = await send('PUT', `/v1/tenants/${SLUG}/policy`, { authorization: `Bearer ${tokens['platform-admin']}`, 'content-type': 'application/json' }, JSON.stringify(POLICY));
    assert.equal(res.status, 200, `restoring the policy: ${res.text}`);
  } else if (op.method === 'DELETE' && op.path.endsWith('/grants/{grant}')) {
    await ensureV6Grant();
  } else if (item && (op.method === 'DELETE' || op.method === 'PATCH')) {
    await ensureObject(item);
  } else if (op.path === '/v1/agent/keys') {
    state.agent = await enrollAgent();
  } else if (op.path === '/v1/agent/enroll') {
    await mintEnrollToken();
  }
}

/** The value of a path parameter that exists, so that the route is reached. */
function realSegment(op: Operation, name: string): string {
  switch (name) {
    // Deleting a tenant, and applying a whole intent (with ?prune=true it deletes or withdraws every
    // object the fuzzed document leaves out, fixtures included), go to a tenant nothing relies on.
    case 'tenant': return (op.method === 'DELETE' && op.path === '/v1/tenants/{tenant}')
      || (op.method === 'PUT' && op.path === '/v1/tenants/{tenant}/intent') ? VICTIM : SLUG;
    case 'name': {
      const collection = /\/v1\/tenants\/\{tenant\}\/([a-z0-9-]+)\/\{name\}/.exec(op.path)?.[1] ?? '';
      if (collection === 'clusters' && !op.path.endsWith('/clusters/{name}')) return HOME;
      return OBJECTS[collection]?.name ?? 'web';
    }
    case 'grant': return state.v6GrantId;
    case 'revision': return '1';
    case 'rollout': return '1';
    case 'token': return state.victimEnrollmentTokenId;
    case 'agent': return state.victimAgentId;
    case 'id': return state.victimApiTokenId;
    default: throw new Error(`no real value for path parameter {${name}} of ${op.method} ${op.path}`);
  }
}

async function authorization(req: FuzzRequest): Promise<string | undefined> {
  switch (req.auth) {
    case 'none': return undefined;
    case 'garbage': return req.garbage;
    case 'agent': return `Bearer ${await state.agent.assertion()}`;
    case 'victim-agent': return `Bearer ${await state.victimAgent.assertion()}`;
    default: return `Bearer ${tokens[req.auth]}`;
  }
}

function urlOf(op: Operation, req: FuzzRequest): string {
  const path = op.path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    const seg = req.segments[name]!;
    return 'raw' in seg ? seg.raw : encodeURIComponent(realSegment(op, name));
  });
  return path + queryString(req.query);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries of requests, per operation.

function hints(): Hints {
  const v4 = state.v4Grant.replace('.0.0/16', '');
  return {
    cidr: fc.oneof(
      fc.tuple(fc.integer({ min: 64, max: 127 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `100.${a}.${b}.0/24`),
      fc.integer({ min: 0, max: 0xffff }).map((n) => `2001:db8:f${(n & 0xfff).toString(16)}::/48`),
    ),
    cidrs: fc.array(fc.tuple(fc.integer({ min: 100, max: 250 }), fc.integer({ min: 0, max: 15 })).map(([a, b]) => `${v4}.${a}.${b * 16}/28`), { minLength: 1, maxLength: 2 }),
    allocate: fc.record({ family: fc.constant(4), prefixLength: fc.integer({ min: 26, max: 30 }) }),
    peerAddress: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `10.1.${a}.${b}`),
    routerID: fc.constant('10.255.0.1'),
    myASN: fc.constant(64512), peerASN: fc.integer({ min: 64512, max: 65534 }), localASN: fc.integer({ min: 64512, max: 65534 }),
    holdTime: fc.constantFrom('90s', '180s'), keepaliveTime: fc.constantFrom('30s', '60s'), connectTime: fc.constantFrom('10s', '5s'),
    value: fc.integer({ min: 0, max: 65535 }).map((n) => `64512:${n}`),
    communities: fc.subarray(['no-adv', '65535:65281', '64512:7']),
    ipAddressPools: fc.constantFrom([], ['web']), peers: fc.constantFrom([], ['tor']), bfdProfile: fc.constant('fast'), type: fc.constantFrom('bgp', 'l2'),
    ttl: fc.constantFrom('1h', '2h', '15m', '30d'),
    tenant: fc.constant(SLUG),
    token: fc.constant(0).map(() => state.enrollToken),
    publicKeyJwk: fc.constantFrom(...state.publicJwks),
    revision: fc.integer({ min: 1, max: 4 }),
    appliedRevision: fc.constantFrom(null, 1, 2),
    allowedASNs: fc.constantFrom(POLICY.allowedASNs, [{ from: 1, to: 4294967295 }], []),
    allowedPeerCIDRs: fc.constantFrom(POLICY.allowedPeerCIDRs, ['0.0.0.0/0', '::/0'], []),
    // A YAML document (POST …/imports): MetalLB objects, and YAML that attacks the parser.
    document: fc.oneof(metallbYaml(v4), fc.constantFrom(...HOSTILE_YAML)),
  };
}


const freshName = fc.stringMatching(/^fz-[a-z0-9]{1,12}$/);

/**
 * Valid bodies to start from, where the schema's optional fields rarely combine into one (exactly
 * one of peerAddress and interface, cidrs or allocate): mutations of a valid body reach the checks
 * behind the schema (the render core, the policy, the database).
 */
function template(op: Operation): fc.Arbitrary<unknown> | undefined {
  const collection = /^\/v1\/tenants\/\{tenant\}\/([a-z0-9-]+)$/.exec(op.path)?.[1];
  if (op.method === 'POST' && collection && OBJECTS[collection]) {
    const base = OBJECTS[collection]!.body;
    const extra: Record<string, fc.Arbitrary<unknown>> = {
      peers: fc.record({ peerAddress: hints().peerAddress!, peerASN: fc.integer({ min: 64512, max: 65534 }) }),
      communities: fc.record({ value: hints().value! }),
      pools: fc.record({ allocate: hints().allocate! }),
    };
    return fc.tuple(freshName, extra[collection] ?? fc.constant({})).map(([name, more]) => ({ ...structuredClone(base), name, ...(more as object) }));
  }
  switch (`${op.method} ${op.path}`) {
    case 'POST /v1/tenants': return freshName.map((slug) => ({ slug, name: slug.toUpperCase() }));
    case 'POST /v1/tokens': return fc.tuple(freshName, fc.constantFrom('tenant-viewer', 'tenant-admin')).map(([name, role]) => ({ name, role, tenant: SLUG, ttl: '1h' }));
    case 'PUT /v1/tenants/{tenant}/policy': return fc.constant(POLICY);
    case 'POST /v1/agent/status': return fc.constant({ appliedRevision: null, sessions: [{ node: 'n1', peer: '10.0.0.1', bgpState: 'Established' }] });
    case 'POST /v1/tenants/{tenant}/imports': return fc.record({ document: metallbYaml(state.v4Grant.replace('.0.0/16', '')), apply: fc.boolean() });
    case 'POST /v1/agent/enroll': return fc.constantFrom(...state.publicJwks).map((publicKeyJwk) => ({ token: state.enrollToken, publicKeyJwk }));
    default: return undefined;
  }
}

/** The JSON body an operation takes; a PATCH (a merge patch of anything) is fuzzed from its collection's create schema. */
function bodySchema(op: Operation): Schema | undefined {
  if (op.method !== 'PATCH') return op.body;
  const parent = op.path.replace(/\/\{[A-Za-z]+\}$/, '');
  const create = doc.paths[parent]?.post?.requestBody?.content['application/json']?.schema;
  if (!create) return op.body;
  const s = allOptional(resolve(doc, create));
  const immutable = op.path.endsWith('/{tenant}') ? 'slug' : 'name';
  return { ...s, properties: Object.fromEntries(Object.entries(s.properties ?? {}).filter(([k]) => k !== immutable)) };
}

function validQuery(p: { name: string; schema?: Schema }): fc.Arbitrary<QueryValue> {
  const s = p.schema ?? {};
  if (s.enum) return fc.constantFrom(...s.enum.map((e) => ({ text: String(e) })));
  if (p.name === 'limit') return fc.constantFrom('1', '2', '50', '500').map((text) => ({ text }));
  if (p.name === 'cursor') return fc.constantFrom('["a"]', '["0","00000000-0000-0000-0000-000000000000"]').map((json) => ({ text: Buffer.from(json).toString('base64url') }));
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).map((text) => ({ text }));
  return fc.string({ maxLength: 8 }).map((text) => ({ text }));
}

const GARBAGE_AUTH = ['Bearer', 'Bearer ', 'Bearer x', 'Basic YTpi', `Bearer mft_${'0'.repeat(32)}_${'A'.repeat(43)}`, 'Bearer a.b.c', `Bearer ${'a'.repeat(10_000)}`,
  'Bearer mft_', 'Bearer %00', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'bearer  two  spaces', 'Bearer ' + 'mft_x_y'.repeat(3)];

function requestArbitrary(op: Operation): fc.Arbitrary<FuzzRequest> {
  const agentOp = op.path.startsWith('/v1/agent/');
  // Mostly a token that may perform the operation (a platform-admin may perform every one but the agents').
  const auth = fc.oneof(
    { arbitrary: fc.constant<Auth>(agentOp ? 'agent' : 'platform-admin'), weight: 5 },
    { arbitrary: fc.constant<Auth>('tenant-admin'), weight: 2 },
    { arbitrary: fc.constantFrom<Auth>('tenant-viewer', 'other-tenant-admin', 'none', 'garbage', 'agent', 'victim-agent', 'platform-admin'), weight: 3 },
  );
  const pathParams = [...op.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
  const segments = fc.record(Object.fromEntries(pathParams.map((name) => [name, fc.oneof(
    { arbitrary: fc.constant<Segment>({ real: true }), weight: 4 },
    { arbitrary: hostileSegment.map((raw): Segment => ({ raw })), weight: 1 },
  )])));
  const queryParams = op.params.filter((p) => p.in === 'query');
  const query = fc.tuple(
    fc.tuple(...queryParams.map((p) => fc.option(fc.oneof(validQuery(p), hostileQueryValue), { nil: undefined, freq: 3 }).map((v) => [p.name, v] as const))),
    // Parameters the operation does not declare, and declared ones twice.
    fc.oneof(
      { arbitrary: fc.constant([]), weight: 3 },
      fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'force', 'revision', 'from', '__proto__', 'constructor', '%00', 'x'.repeat(300), ''), hostileQueryValue), { minLength: 1, maxLength: 2 }),
    ),
  ).map(([declared, extra]) => [...declared.filter((e): e is [string, QueryValue] => e[1] !== undefined), ...extra] as Array<[string, QueryValue]>);
  const schema = bodySchema(op);
  const takesBody = op.method !== 'GET' && op.method !== 'HEAD';
  const fromSchema = schema ? schemaValue(doc, schema, hints()) : fc.constant({});
  const valid = template(op);
  const base = valid ? fc.oneof(valid, fromSchema) : fromSchema;
  const body = !takesBody ? fc.constant<BodyPlan>({ kind: 'none' })
    : schema ? bodyPlan(base)
    : fc.oneof({ arbitrary: fc.constant<BodyPlan>({ kind: 'none' }), weight: 4 }, { arbitrary: bodyPlan(base), weight: 1 });
  const contentTypes = op.bodyTypes.length > 0 ? op.bodyTypes : ['application/json'];
  return fc.record({
    auth, garbage: fc.constantFrom(...GARBAGE_AUTH), segments, query,
    ifMatch: fc.option(fc.oneof({ arbitrary: fc.constant('*'), weight: 4 }, fc.constantFrom('"0000"', 'W/"x"', '*, "a"', '', ' ', '"' + 'a'.repeat(5000) + '"')), { nil: undefined, freq: 6 }),
    contentType: fc.oneof(
      { arbitrary: fc.constantFrom(...contentTypes), weight: 8 },
      { arbitrary: fc.constantFrom<string | null>(null, 'text/plain', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x'), weight: 1 },
    ),
    body,
  });
}

/**
 * One clean request per role that may perform the operation (the route's handler is reached at
 * least once), and the fixed hostile cases of the operation.
 */
function cleanExamples(op: Operation, seed: number): FuzzRequest[] {
  const schema = bodySchema(op);
  // A PATCH's clean body sets every field it may (so that each gets its NUL below).
  const full = schema && op.method === 'PATCH' ? { ...schema, required: Object.keys(schema.properties ?? {}) } : schema;
  const valid = template(op) ?? (full ? schemaValue(doc, full, hints()) : undefined);
  const value = valid ? fc.sample(valid, { seed, numRuns: 1 })[0] : undefined;
  const segments = Object.fromEntries([...op.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => [m[1]!, { real: true } as Segment]));
  const auths: Auth[] = op.path.startsWith('/v1/agent/') ? ['agent'] : ['platform-admin', 'tenant-admin'];
  const clean = (auth: Auth, body: BodyPlan): FuzzRequest => ({ auth, garbage: '', segments, query: [], ifMatch: '*', contentType: op.bodyTypes[0] ?? 'application/json', body });
  return [
    ...auths.map((auth) => clean(auth, value === undefined || op.method === 'GET' ? { kind: 'none' } : { kind: 'json', value })),
    // A NUL in each string field of the clean body in turn (PostgreSQL refuses NUL in text: a 500 unless refused before).
    ...(value === undefined || op.method === 'GET' ? [] : nulInEachString(value).map((v) => clean(auths[0]!, { kind: 'json', value: v }))),
    // A document nested 20,000 levels (a merge patch recursed that deep once) and a __proto__ key, to every body.
    ...(op.method === 'GET' ? [] : [`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}']
      .map((text) => clean(auths[0]!, { kind: 'raw', text }))),
    // Every hostile YAML document once (a dry run): a handful of fixed cases the random runs would rarely all draw.
    ...(op.path.endsWith('/imports') ? HOSTILE_YAML.map((document) => clean('tenant-admin', { kind: 'json', value: { document, apply: false } })) : []),
  ];
}

// ---------------------------------------------------------------------------------------------

/** Codes of the bounds every request meets before authentication (api/input.ts, the body limit). */
const BEFORE_AUTH_FIELD_CODES = new Set(['control-character', 'too-long', 'too-deep', 'too-many-keys', 'forbidden-key', 'number-out-of-range', 'invalid-encoding']);
const NOT_REACHED = new Set(['unauthorized', 'forbidden', 'not-found', 'route-not-found', 'invalid-path', 'invalid-query', 'malformed-request', 'payload-too-large']);

/** Whether an answer shows the request got past authentication and routing into the operation. */
function reached(res: Reply): boolean {
  if (res.status < 400) return true;
  const p = res.body as { code?: string; errors?: Array<{ code?: string }> } | undefined;
  if (NOT_REACHED.has(p?.code ?? '')) return false;
  return !(p?.code === 'validation-failed' && p.errors?.length && p.errors.every((e) => BEFORE_AUTH_FIELD_CODES.has(e.code ?? '')));
}

before(async () => {
  h = await startHarness();
  state.publicJwks = await Promise.all([1, 2, 3].map(async () => publicPart(await generateAgentKey())));
  documented = documentedCodes(readFileSync(new URL('../../docs/problem-codes.md', import.meta.url), 'utf8'));
  const t = await seedApiTenant(h, SLUG);
  const other = await seedApiTenant(h, OTHER);
  Object.assign(tokens, { 'platform-admin': t.admin, 'tenant-admin': t.tenantAdmin, 'tenant-viewer': t.viewer, 'other-tenant-admin': other.tenantAdmin });
  state.v4Grant = t.v4Grant;
  state.v6Grant = t.v6Grant;
  await mustCreate('/v1/tenants', { slug: VICTIM, name: 'Victim' }, t.admin);
  doc = (await send('GET', '/openapi.json', {}, undefined)).body as OpenApiDoc;
  for (const [path, ops] of Object.entries(doc.paths)) {
    const collection = /^\/v1\/tenants\/\{tenant\}\/([a-z0-9-]+)$/.exec(path)?.[1];
    const create = ops.post?.requestBody?.content['application/json']?.schema;
    if (!collection || !create || !doc.paths[`${path}/{name}`]) continue;
    const known = KNOWN_OBJECTS[collection];
    if (known) OBJECTS[collection] = { name: known.name as string, body: known };
    else {
      const s = resolve(doc, create);
      const required = { ...s, properties: Object.fromEntries(Object.entries(s.properties ?? {}).filter(([k]) => s.required?.includes(k))) };
      const name = `fz-${collection}`.slice(0, 63);
      OBJECTS[collection] = { name, body: { ...(fc.sample(schemaValue(doc, required, hints()), { seed: 1, numRuns: 1 })[0] as object), name } };
    }
  }
  for (const collection of ['clusters', 'pools', 'peers']) assert.ok(OBJECTS[collection], `the document has no ${collection} collection`);
  for (const collection of Object.keys(OBJECTS)) await ensureObject(collection);
  await mustCreate(`/v1/tenants/${SLUG}/clusters`, { name: HOME, backend: 'frr', labels: { site: 'home' } });
  await ensureV6Grant();
  state.agent = await enrollAgent();
  state.victimAgent = await enrollAgent();
  state.victimAgentId = state.victimAgent.identity!.agentId;
  state.victimEnrollmentTokenId = ((await mustCreate(`/v1/tenants/${SLUG}/clusters/${HOME}/enrollment-tokens`, {})).body as { id: string }).id;
  state.victimApiTokenId = ((await mustCreate('/v1/tokens', { name: 'victim', role: 'tenant-viewer', tenant: SLUG })).body as { id: string }).id;
  await mintEnrollToken();
  // Rollout 1 for the rollout routes (a finished one: the tenant has no rollout policy, writes stay immediate).
  const [tenant] = await withPlatform(h.database.db, (tx) => tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, SLUG)));
  await withTenant(h.database.db, tenant!.id, (tx) => tx.insert(rollouts).values({
    tenantId: tenant!.id, number: 1, state: 'completed', cause: 'fuzz fixture', createdBy: 'fuzz', waves: [],
  }));
  snapshot = await snapshotter(h.database.db);
});
after(() => h?.close());

test('the fixtures are visible to the snapshot', async () => {
  const s = await snapshot.take();
  for (const table of ['tenants', 'clusters', 'pools', 'peers', 'agents', 'enrollment_tokens', 'api_tokens', 'audit_events', 'config_revisions']) {
    assert.ok(Number(s[table]) > 0, `${table}: ${s[table]} (the platform scope must see every row)`);
  }
});

test('every operation in /openapi.json, fuzzed', async (t) => {
  t.diagnostic(`seed ${SEED} (replay: FC_SEED=${SEED} node --import tsx --test test/api/fuzz.test.ts); ${RUNS} runs per operation`);
  const ops = operationsOf(doc);
  assert.ok(ops.length >= 60, `${ops.length} operations`);
  assert.ok(ops.some((o) => o.path === '/v1/agent/status'), 'the agent protocol is in the document');
  const started = performance.now();
  let last = await snapshot.take();

  for (const [index, op] of ops.entries()) {
    await t.test(`${op.method} ${op.path}`, async (st) => {
      const seed = (SEED + index * 7919) | 0;
      const violations: string[] = [];
      const statuses = new Map<string, number>();
      let reachedCount = 0;
      await fc.assert(fc.asyncProperty(requestArbitrary(op), async (req) => {
        const url = urlOf(op, req);
        const headers: Record<string, string> = {};
        const authz = await authorization(req);
        if (authz !== undefined) headers.authorization = authz;
        // Every PATCH needs If-Match (docs/problem-codes.md: 428), declared in the document or not.
        if (req.ifMatch !== undefined && (op.method === 'PATCH' || op.params.some((p) => p.in === 'header' && p.name === 'if-match'))) headers['if-match'] = req.ifMatch;
        const text = bodyText(req.body);
        if (text !== undefined && req.contentType !== null) headers['content-type'] = req.contentType;
        const res = await send(op.method, url, headers, text);
        if (TRACE) st.diagnostic(`${op.method} ${preview(url, 160)} [${req.auth}] body ${preview(text, 160)} → ${res.status} ${preview(res.text, 160)}`);
        const key = `${res.status}${(res.body as { code?: string } | undefined)?.code ? ` ${(res.body as { code: string }).code}` : ''}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (reached(res)) reachedCount++;
        const found = contractViolations(res, documented);
        for (const c of undocumentedFieldCodes(res, documented)) if (!undocumentedFields.has(c)) undocumentedFields.set(c, `${op.method} ${url.slice(0, 120)} → ${res.text.slice(0, 300)}`);
        if (res.status >= 400 && res.status < 500) {
          const now = await snapshot.take();
          const diff = snapshotDiff(last, now);
          if (diff.length > 0) found.push(`answered ${res.status} but stored: ${diff.join('; ')}`);
          last = now;
        } else {
          if (res.status < 300 && op.method !== 'GET') await repair(op);
          last = await snapshot.take();
        }
        if (found.length > 0 && violations.length < 8) {
          violations.push([
            `${op.method} ${preview(url, 240)} [auth ${req.auth}${req.auth === 'garbage' ? ` ${preview(req.garbage, 40)}` : ''}; content-type ${req.contentType}; if-match ${req.ifMatch ?? '(none)'}]`,
            `  body: ${preview(text)}`,
            `  → ${res.status} ${res.headers.get('content-type')} ${preview(res.text, 400)}`,
            ...found.map((f) => `  ✗ ${f}`),
          ].join('\n'));
        }
      }), { numRuns: RUNS, seed, examples: cleanExamples(op, seed).map((e) => [e] as [FuzzRequest]) });
      st.diagnostic(`${[...statuses].sort().map(([k, n]) => `${k}×${n}`).join(', ')}`);
      assert.ok(reachedCount > 0, `no request reached ${op.method} ${op.path} past authentication and routing: ${[...statuses.keys()].join(', ')}`);
      assert.ok(violations.length === 0, `${op.method} ${op.path} broke the error contract (seed ${seed}):\n${violations.join('\n\n')}`);
    });
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a request polluted Object.prototype');
  t.diagnostic(`${requests} requests in ${((performance.now() - started) / 1000).toFixed(1)} s (fixtures and repairs included)`);
  assert.equal(undocumentedFields.size, 0,
    `field codes (errors[].code) not in docs/problem-codes.md: ${[...undocumentedFields].map(([c, where]) => `${c} (e.g. ${where})`).join(' | ')}`);
});

// Found by this fuzz in the first version of the import (a 500, and a crash); each fails, naming
// the code at fault, should it come back.
test('a YAML alias bomb sent to POST …/imports is refused, not a 500', async (t) => {
  if (!doc.paths['/v1/tenants/{tenant}/imports']?.post) return t.skip('no POST /v1/tenants/{tenant}/imports in /openapi.json');
  const before = await snapshot.take();
  const res = await send('POST', `/v1/tenants/${SLUG}/imports`, { authorization: `Bearer ${tokens['tenant-admin']}`, 'content-type': 'application/json' },
    JSON.stringify({ document: HOSTILE_YAML[0], apply: true }));
  assert.ok(res.status < 500, `POST /v1/tenants/{tenant}/imports with a 9x9 YAML alias bomb answered ${res.status} ${res.text}: `
    + "yaml's Document.toJS() throws ReferenceError('Excessive alias count indicates a resource exhaustion attack'); render/import.ts "
    + '(importMetallb) must catch it and report an import-invalid-yaml problem');
  assert.deepEqual(contractViolations(res, documented), []);
  assert.deepEqual(snapshotDiff(before, await snapshot.take()), [], 'nothing stored');
});

// A YAML document of 1,000 nested flow sequences (2 KB) overflows the YAML parser's stack (yaml
// 2.9.1 on Node 20); the parser reports that as an error, but the second such request kills the
// whole process (V8: "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory").
// Sent in a child process, so that a crash fails this test instead of ending the run.
test('deeply nested YAML sent to POST …/imports, three times, does not take the process down', { timeout: 120_000 }, async (t) => {
  if (!doc.paths['/v1/tenants/{tenant}/imports']?.post) return t.skip('no POST /v1/tenants/{tenant}/imports in /openapi.json');
  const depth = 1000;
  const script = `
    import { seedApiTenant, startHarness } from ${JSON.stringify(new URL('../helpers/api.ts', import.meta.url).href)};
    const h = await startHarness();
    try {
      const t = await seedApiTenant(h, 'deep');
      const document = '['.repeat(${depth}) + ']'.repeat(${depth});
      for (let i = 0; i < 3; i++) {
        const r = await h.call('POST', '/v1/tenants/deep/imports', { token: t.tenantAdmin, body: { document } });
        console.log(JSON.stringify({ status: r.status, code: r.body?.code }));
      }
    } finally {
      await h.close();
    }`;
  const child = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((done) => {
    // On PGlite even when DATABASE_URL is set: a crashed child would leave its scratch database behind.
    const { DATABASE_URL: _onPglite, ...env } = process.env;
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), timeout: 110_000, env },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, signal: (err as { signal?: string } | null)?.signal ?? null, stdout, stderr }));
  });
  const answers = child.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status: number; code?: string });
  const fatal = child.stderr.split('\n').find((l) => /FATAL|Error/.test(l)) ?? child.stderr.slice(-300);
  assert.ok(child.code === 0 && answers.length === 3,
    `POST /v1/tenants/{tenant}/imports with {"document": "[" x ${depth} + "]" x ${depth}} (a 2 KB body), sent three times by a tenant-admin, `
    + `killed the process after ${answers.length} answer(s) ${JSON.stringify(answers)} (exit ${child.code}, signal ${child.signal}): ${fatal.trim()}. `
    + 'The YAML parser (parseAllDocuments in render/import.ts) overflows the stack: the nesting must be bounded before it parses.');
  for (const a of answers) assert.ok(a.status < 500, JSON.stringify(answers));
});
