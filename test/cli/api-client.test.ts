// The typed client (cli/api-client.ts) against the real app, in-process: requests typed by the
// generated cli/api-types.ts, the token sent, and every error answer thrown as a ProblemError.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiClient, ProblemError, type ApiClient } from '../../cli/api-client.ts';
import { PUBLIC_URL, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let client: ApiClient;
before(async () => {
  h = await startHarness();
  const token = await h.token({ sub: 'client-test', role: 'platform-admin' });
  client = createApiClient({ baseUrl: PUBLIC_URL, token, fetch: async (request) => h.app.request(request) });
});
after(() => h.close());

/** The ProblemError `call` rejects with. */
async function problem(call: Promise<unknown>): Promise<ProblemError> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ProblemError, `expected a ProblemError, got ${String(err)}`);
  return err;
}

test('creates a tenant, lists it, and answers a missing one with a 404 ProblemError', async () => {
  const created = await client.POST('/v1/tenants', { body: { slug: 'client-acme', name: 'Acme' } });
  assert.equal(created.response.status, 201);
  assert.equal(created.data?.slug, 'client-acme');

  const listed = await client.GET('/v1/tenants', { params: { query: { limit: '500' } } });
  assert.ok(listed.data?.items.some((t) => t.slug === 'client-acme' && t.name === 'Acme'), JSON.stringify(listed.data));

  const missing = await problem(client.GET('/v1/tenants/{tenant}', { params: { path: { tenant: 'client-nobody' } } }));
  assert.equal(missing.status, 404);
  assert.equal(missing.code, 'not-found');
  assert.match(missing.detail, /client-nobody/);
  assert.match(missing.requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual(missing.errors, []);
});

test('carries per-field errors of a refused body', async () => {
  const refused = await problem(client.POST('/v1/tenants', { body: { slug: 'Not A Slug', name: 'x' } }));
  assert.equal(refused.status, 422);
  assert.equal(refused.code, 'validation-failed');
  assert.ok(refused.errors.some((e) => e.path === 'slug'), JSON.stringify(refused.errors));
});

test('sends If-Match from the ETag it read; the types require it where the API does', async () => {
  await client.POST('/v1/tenants', { body: { slug: 'client-rename', name: 'Before' } });
  const path = { tenant: 'client-rename' };
  const read = await client.GET('/v1/tenants/{tenant}', { params: { path } });
  const etag = read.response.headers.get('etag');
  assert.ok(etag);
  const header = { 'if-match': etag };
  const renamed = await client.PATCH('/v1/tenants/{tenant}', { params: { path, header }, body: { name: 'After' } });
  assert.equal(renamed.data?.name, 'After');

  const stale = await problem(client.PATCH('/v1/tenants/{tenant}', { params: { path, header }, body: { name: 'x' } }));
  assert.deepEqual([stale.status, stale.code], [412, 'precondition-failed']);
  // Without If-Match the API answers 428, and the document says it is required: the call does not compile.
  // @ts-expect-error -- params.header is missing
  const unconditional = await problem(client.PATCH('/v1/tenants/{tenant}', { params: { path }, body: { name: 'x' } }));
  assert.deepEqual([unconditional.status, unconditional.code], [428, 'precondition-required']);
});

test('sends the token: without one the API answers 401', async () => {
  const anonymous = createApiClient({ baseUrl: PUBLIC_URL, fetch: async (request) => h.app.request(request) });
  const refused = await problem(anonymous.GET('/v1/tenants', {}));
  assert.deepEqual([refused.status, refused.code], [401, 'unauthorized']);
  assert.equal((await anonymous.GET('/healthz')).data?.status, 'ok');
});

test('an error answer that is no problem+json (a proxy\'s) is a ProblemError too', async () => {
  const proxied = createApiClient({
    baseUrl: PUBLIC_URL, token: 'mft_x_y',
    fetch: async () => new Response('<html>Bad Gateway</html>', {
      status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' },
    }),
  });
  const err = await problem(proxied.GET('/v1/tenants', {}));
  assert.deepEqual([err.status, err.code, err.requestId], [502, 'unexpected-response', undefined]);
  assert.match(err.detail, /^HTTP 502 Bad Gateway \(text\/html\): <html>Bad Gateway<\/html>$/);
});
