// Request bodies over a real Node HTTP server (api/body.ts reads them from the IncomingMessage,
// not through a Fetch Request): bytes split anywhere decode as they were sent, the 1 MiB cap holds
// whether the length is declared or not, and a refused body changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { BODY_LIMIT_BYTES } from '../../api/app.ts';
import { startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let server: ServerType;
let port: number;
let admin: string;

before(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'body-test', role: 'platform-admin' });
  server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

/** A POST whose body goes out in the pieces given; chunked unless `contentLength` is set. */
function post(path: string, pieces: Uint8Array[], contentLength?: number): Promise<{ status: number; contentType: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method: 'POST', path,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...(contentLength !== undefined ? { 'content-length': contentLength } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: text ? JSON.parse(text) : undefined }));
    });
    // The server may answer (413) and stop reading before all is sent.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    (async () => {
      for (const piece of pieces) {
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })().catch(reject);
  });
}

const utf8 = (text: string) => new TextEncoder().encode(text);

test('a body split inside a multi-byte character arrives intact', async () => {
  const bytes = utf8(JSON.stringify({ slug: 'utf8-split', name: 'Zürich — 東京 🛰' }));
  // One byte at a time: every multi-byte character is cut.
  const res = await post('/v1/tenants', Array.from(bytes, (b) => Uint8Array.of(b)));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.name, 'Zürich — 東京 🛰');
  // And with its length declared, with a byte-order mark in front (dropped, as fetch's text() does).
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(JSON.stringify({ slug: 'with-bom', name: 'BOM' }))]);
  const declared = await post('/v1/tenants', [bom.subarray(0, 2), bom.subarray(2)], bom.length);
  assert.equal(declared.status, 201, JSON.stringify(declared.body));
});

/**
 * A valid tenant create, `size` bytes long: the JSON is padded with whitespace between its members,
 * which the handler never sees, so without the size limit this body would create the tenant.
 */
function paddedCreate(slug: string, size: number): Uint8Array {
  const head = `{"slug":${JSON.stringify(slug)},`;
  const tail = `"name":${JSON.stringify(`Padded ${slug}`)}}`;
  const body = utf8(`${head}${' '.repeat(size - head.length - tail.length)}${tail}`);
  assert.equal(body.length, size);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(body)), { slug, name: `Padded ${slug}` });
  return body;
}

const in64KiB = (bytes: Uint8Array) => Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));

async function tenantStatus(slug: string): Promise<number> {
  return (await h.call('GET', `/v1/tenants/${slug}`, { token: admin })).status;
}

test('a body over the limit is refused with 413 whether its length is declared or not, and nothing is created', async () => {
  // One byte over, and only because of whitespace: the same create at the limit succeeds below.
  for (const how of ['declared', 'chunked'] as const) {
    const slug = `over-limit-${how}`;
    const over = paddedCreate(slug, BODY_LIMIT_BYTES + 1);
    const res = await post('/v1/tenants', in64KiB(over), how === 'declared' ? over.length : undefined);
    assert.equal(res.status, 413, how);
    assert.equal(res.contentType, 'application/problem+json', how);
    assert.equal(res.body.code, 'payload-too-large', how);
    assert.ok(res.body.requestId, how);
    assert.equal(await tenantStatus(slug), 404, `${how}: the refused body created tenant ${slug}`);
  }
  // Exactly at the limit is not over it: the body is read and judged on its content, and this
  // very kind of request creates the tenant.
  for (const how of ['declared', 'chunked'] as const) {
    const slug = `at-limit-${how}`;
    const atLimit = paddedCreate(slug, BODY_LIMIT_BYTES);
    const res = await post('/v1/tenants', in64KiB(atLimit), how === 'declared' ? atLimit.length : undefined);
    assert.equal(res.status, 201, `${how}: ${JSON.stringify(res.body)}`);
    assert.equal(await tenantStatus(slug), 200, how);
  }
});

test('malformed JSON is a 400 problem, and the server keeps serving', async () => {
  const res = await post('/v1/tenants', [utf8('{"slug": "broken", '), utf8('"name": ')]);
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'malformed-request');
  const ok = await post('/v1/tenants', [utf8(JSON.stringify({ slug: 'after-broken', name: 'After' }))]);
  assert.equal(ok.status, 201);
});
