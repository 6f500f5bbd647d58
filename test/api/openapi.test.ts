import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startHarness, type Harness } from '../helpers/api.ts';

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
  const undocumentedOnPurpose = new Set(['GET /openapi.json', 'GET /docs']);
  const served = h.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`)
    .filter((r) => !undocumentedOnPurpose.has(r));
  for (const route of served) assert.ok(documented.has(route), `${route} is not in /openapi.json`);
  for (const needed of ['GET /v1/tenants/{tenant}/peers', 'PATCH /v1/tenants/{tenant}/pools/{name}', 'PUT /v1/tenants/{tenant}/policy',
    'GET /v1/tenants/{tenant}/audit', 'DELETE /v1/tenants/{tenant}/grants/{grant}', 'GET /.well-known/jwks.json']) {
    assert.ok(documented.has(needed), needed);
  }
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops as Record<string, { responses: Record<string, unknown> }>)) {
      if (path.startsWith('/v1/')) assert.ok(op.responses['401'], `${method} ${path} documents 401`);
    }
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

test('/docs without local Swagger UI files (as on Workers) loads them from the CDN', async () => {
  const res = await h.call('GET', '/docs');
  assert.equal(res.status, 200);
  assert.match(res.text, /https:\/\/cdn\.jsdelivr\.net\/npm\/swagger-ui-dist\/swagger-ui-bundle\.js/);
  assert.match(res.text, /url: '\/openapi\.json'/);
});
