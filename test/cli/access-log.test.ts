// `metalfleet serve`'s access log: one JSON line per request (request id, method, registered route,
// status, latency, tenant, actor), and never a secret: the walkthrough's admin token, the token it
// issues, a peer password, the enrollment token and the agent's assertions all stay out of stdout.
// A client that leaves mid-body is a 400 line, not an "unhandled error".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { accessLogger } from '../../cli/log.ts';
import { freePort, startServer } from '../helpers/process.ts';

interface Sent { method: string; path: string; status: number; requestId: string | null }

test('one JSON access line per request, with its fields and no secret', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mf-access-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer({
    METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', PORT: String(port),
    METALFLEET_PUBLIC_URL: '', METALFLEET_LOG_LEVEL: 'debug',
  });
  const sent: Sent[] = [];
  const secrets: string[] = [];
  // Every request of the test goes through here, so the log can be checked against what was sent.
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    sent.push({ method: init?.method ?? 'GET', path: target.pathname, status: res.status, requestId: res.headers.get('x-request-id') });
    const auth = new Headers(init?.headers).get('authorization');
    if (auth) secrets.push(auth.replace(/^Bearer /, ''));
    return res;
  };
  try {
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown, token = admin) => {
      const res = await recordingFetch(`${url}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const password = 'Sup3r-s3cret-pw';
    secrets.push(admin, password);
    assert.equal((await call('POST', '/v1/tenants', { slug: 'acme', name: 'ACME' })).status, 201);
    await call('POST', '/v1/tenants/acme/grants', { cidr: '203.0.113.0/24' });
    await call('PUT', '/v1/tenants/acme/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['192.0.2.0/24'] });
    await call('POST', '/v1/tenants/acme/clusters', { name: 'edge-1', backend: 'frr' });
    await call('POST', '/v1/tenants/acme/pools', { name: 'web', cidrs: ['203.0.113.0/26'] });
    assert.equal((await call('POST', '/v1/tenants/acme/peers',
      { name: 'tor-a', myASN: 64512, peerASN: 64600, peerAddress: '192.0.2.1', password })).status, 201);
    await call('POST', '/v1/tenants/acme/bgp-advertisements', { name: 'web-out' });
    const issued = await call('POST', '/v1/tokens', { role: 'tenant-admin', tenant: 'acme', name: 'ci', ttl: '1h' });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    secrets.push(issued.body.token);
    assert.equal((await call('GET', '/v1/tenants/acme/pools', undefined, issued.body.token)).status, 200);
    assert.equal((await call('GET', '/v1/tenants/acme/pools/nope')).status, 404);
    assert.equal((await call('POST', '/v1/tenants/acme/pools', { name: 'Bad Name', cidrs: [] })).status, 422);
    assert.equal((await call('GET', '/v1/tenants', undefined, 'mft_forged')).status, 401);
    const enrollment = await call('POST', '/v1/tenants/acme/clusters/edge-1/enrollment-tokens', {});
    secrets.push(enrollment.body.token);

    const agent = new AgentClient({ baseUrl: url, fetch: recordingFetch });
    const identity = await agent.enroll(enrollment.body.token, { privateJwk: await generateAgentKey() });
    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    assert.equal((await agent.fetchConfig(first.etag)).status, 304);
    await agent.reportStatus({ appliedRevision: first.status === 200 ? first.config.revision : null, sessions: [] });

    // A client that sends half its body and hangs up.
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST /v1/tenants/acme/pools HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${admin}\r\n`
          + 'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":');
        setTimeout(() => { socket.destroy(); resolve(); }, 200);
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    await server.stop();

    const lines = server.output().split('\n').filter((line) => line.startsWith('{'));
    for (const line of lines) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a secret in the log: ${line}`);
      assert.ok(!line.includes(password) && !line.includes('"name":"Bad Name"'), `a body in the log: ${line}`);
    }
    const requests = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    assert.equal(requests.length, sent.length + 1, `one line per request:\n${requests.map((r) => `${r.method} ${r.route} ${r.status}`).join('\n')}`);
    assert.ok(!lines.some((line) => line.includes('unhandled error')), 'a client disconnect is not an unhandled error');
    const byId = new Map(requests.map((entry) => [entry.requestId, entry]));
    for (const request of sent) {
      const entry = byId.get(request.requestId);
      assert.ok(entry, `no line for ${request.method} ${request.path} (${request.requestId})`);
      assert.equal(entry.method, request.method);
      assert.equal(entry.status, request.status);
      assert.equal(typeof entry.ms, 'number');
      assert.ok(entry.route.startsWith('/'), entry.route);
      assert.ok(!entry.route.includes('acme'), `the registered route, not the path: ${entry.route}`);
    }
    const tenantId = requests.find((entry) => entry.route === '/v1/tenants/:tenant/pools' && entry.status === 201)?.tenantId;
    assert.ok(tenantId, 'tenant routes name the tenant id');
    const poll = requests.find((entry) => entry.route === '/v1/agent/config' && entry.status === 304);
    assert.equal(poll?.actor, `agent:${identity.agentId}`);
    assert.equal(poll?.tenantId, tenantId);
    assert.equal(poll?.level, 'debug', 'answered polls log at debug');
    assert.equal(requests.find((entry) => entry.route === '/v1/tenants' && entry.method === 'POST')?.actor, 'bootstrap-admin');
    assert.equal(requests.find((entry) => entry.status === 401)?.actor, undefined);
    const gone = requests.find((entry) => entry.status === 400 && entry.route === '/v1/tenants/:tenant/pools');
    assert.ok(gone, 'the half-sent request has its line');
  } finally {
    if (server.child.exitCode === null) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('at info, answered polls are not logged; failed polls and everything else are', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const log = accessLogger(pino({ level: 'info' }, sink));
  const entry = { requestId: 'r', method: 'GET', ms: 1, tenantId: 't', actor: 'agent:a' };
  log({ ...entry, route: '/v1/agent/config', status: 304 });
  log({ ...entry, route: '/v1/agent/config', status: 200 });
  log({ ...entry, route: '/v1/agent/config', status: 401 });
  log({ ...entry, route: '/v1/agent/status', status: 204 });
  assert.deepEqual(lines.map((line) => JSON.parse(line).status), [401, 204]);
});
