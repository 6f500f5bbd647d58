import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ZOD_ISSUE_CODES } from '../../api/errors.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startHarness, type Harness } from '../helpers/api.ts';
import { isConsolePath } from '../../console/routes.tsx';

let h: Harness;
before(async () => { h = await startHarness(); });
after(() => h.close());

test('/openapi.json is a valid OpenAPI 3.1 document', async () => {
  const res = await h.call('GET', '/openapi.json');
  assert.equal(res.status, 200);
  assert.equal(res.body.openapi, '3.1.0');
  const result = await new Validator().validate(res.body);
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
});

test('it documents every route the app serves', async () => {
  const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  const undocumentedOnPurpose = new Set(['GET /docs']);
  const served = h.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`)
    .filter((r) => !undocumentedOnPurpose.has(r) && !isConsolePath(r.slice(r.indexOf(' ') + 1)));
  for (const route of served) assert.ok(documented.has(route), `${route} is not in /openapi.json`);
  assert.ok(h.app.routes.some((r) => r.path === '/t/:tenant'), 'the console is mounted (and left out on purpose)');
  for (const needed of ['GET /v1/tenants/{tenant}/peers', 'PATCH /v1/tenants/{tenant}/pools/{name}', 'PUT /v1/tenants/{tenant}/policy',
    'GET /v1/tenants/{tenant}/audit', 'DELETE /v1/tenants/{tenant}/grants/{grant}', 'GET /.well-known/jwks.json',
    'GET /openapi.json']) {
    assert.ok(documented.has(needed), needed);
  }
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops as Record<string, { responses: Record<string, unknown> }>)) {
      if (path.startsWith('/v1/')) assert.ok(op.responses['401'], `${method} ${path} documents 401`);
    }
  }
});

interface DocOperation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses: Record<string, unknown>;
}
interface Doc {
  servers?: unknown[];
  paths: Record<string, Record<string, DocOperation>>;
  components: { securitySchemes: Record<string, unknown> };
}
const operations = (doc: Doc) => Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));

test('every operation has a unique camelCase operationId; collections: list/create/get/update/delete', async () => {
  const doc = (await h.call('GET', '/openapi.json')).body as Doc;
  const ids = new Map<string, string>();
  for (const { route, op } of operations(doc)) {
    assert.match(op.operationId ?? '', /^[a-z]+(?:[A-Z0-9][a-z0-9]*)*$/, `${route}: operationId ${op.operationId}`);
    assert.equal(ids.get(op.operationId!), undefined, `${route} has the operationId of ${ids.get(op.operationId!)}`);
    ids.set(op.operationId!, route);
  }
  const t = '/v1/tenants/{tenant}';
  const expected = {
    listPools: `GET ${t}/pools`, createPool: `POST ${t}/pools`, getPool: `GET ${t}/pools/{name}`,
    updatePool: `PATCH ${t}/pools/{name}`, deletePool: `DELETE ${t}/pools/{name}`, listBfdProfiles: `GET ${t}/bfd-profiles`,
    createL2Advertisement: `POST ${t}/l2-advertisements`, getCommunity: `GET ${t}/communities/{name}`,
    updateTenant: `PATCH ${t}`, enrollAgent: 'POST /v1/agent/enroll',
  };
  for (const [id, route] of Object.entries(expected)) assert.equal(ids.get(id), route, id);
});

test('every operation states its security (bearer, agentAssertion, or none) and a 4xx answer', async () => {
  const doc = (await h.call('GET', '/openapi.json')).body as Doc;
  assert.ok((doc.servers ?? []).length > 0, 'servers');
  const open = new Set(['GET /healthz', 'GET /readyz', 'GET /.well-known/jwks.json', 'GET /openapi.json',
    'POST /v1/agent/enroll']);
  for (const { route, op } of operations(doc)) {
    const schemes = op.security?.flatMap((requirement) => Object.keys(requirement));
    const expected = open.has(route) ? [] : route.includes(' /v1/agent/') ? ['agentAssertion'] : ['bearer'];
    assert.deepEqual(schemes, expected, route);
    for (const scheme of expected) assert.ok(doc.components.securitySchemes[scheme], scheme);
    assert.ok(Object.keys(op.responses).some((status) => /^4\d\d$/.test(status)), `${route} documents no 4xx`);
  }
});

test('every PATCH declares If-Match as a required header, as its 428 says', async () => {
  const doc = (await h.call('GET', '/openapi.json')).body as Doc;
  const patches = operations(doc).filter(({ route }) => route.startsWith('PATCH '));
  assert.ok(patches.length >= 8);
  for (const { route, op } of patches) {
    const ifMatch = op.parameters?.find((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match');
    assert.equal(ifMatch?.required, true, route);
    assert.ok(op.responses['428'], `${route} documents 428`);
  }
});

test('/docs serves the interactive reference', async () => {
  const res = await h.app.request('/docs');
  assert.equal(res.status, 200);
  assert.match(await res.text(), /swagger-ui/i);
});

test('every error code the API can answer with is documented with its status in docs/problem-codes.md', () => {
  const apiDir = new URL('../../api/', import.meta.url);
  const sources = readdirSync(apiDir, { recursive: true }).filter((f) => String(f).endsWith('.ts'))
    .map((f) => readFileSync(new URL(String(f), apiDir), 'utf8')).join('\n');
  const doc = readFileSync(new URL('../../docs/problem-codes.md', import.meta.url), 'utf8');
  const raised = new Set([...sources.matchAll(/new ApiError\((\d{3}), '([a-z0-9-]+)'/g)].map((m) => `| ${m[1]} | \`${m[2]}\` |`));
  assert.ok(raised.size >= 20, `found only ${raised.size}`);
  assert.deepEqual([...raised].filter((row) => !doc.includes(row)), []);
});

test('every field code of validation-failed is kebab-case and documented, zod\'s codes mapped', () => {
  const doc = readFileSync(new URL('../../docs/problem-codes.md', import.meta.url), 'utf8');
  const input = readFileSync(new URL('../../api/input.ts', import.meta.url), 'utf8');
  const fieldCodes = new Set([...Object.values(ZOD_ISSUE_CODES), ...[...input.matchAll(/code: '([a-z-]+)'/g)].map((m) => m[1]!)]);
  assert.ok(fieldCodes.size >= 15, `found only ${fieldCodes.size}`);
  for (const code of fieldCodes) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(doc.includes(`\`${code}\``), `${code} is not documented`);
  }
  // Every code zod 4 can raise has a mapping (zod's own list, not ours).
  for (const zodCode of Object.values(z.ZodIssueCode)) assert.ok(ZOD_ISSUE_CODES[zodCode], `zod code ${zodCode} is not mapped`);
});

test('/docs without local Swagger UI files (as on Workers) loads them from the CDN', async () => {
  const res = await h.call('GET', '/docs');
  assert.equal(res.status, 200);
  assert.match(res.text, /https:\/\/cdn\.jsdelivr\.net\/npm\/swagger-ui-dist\/swagger-ui-bundle\.js/);
  assert.match(res.text, /url: '\/openapi\.json'/);
});
