// The README's walk-through, end to end against a real `metalfleet serve`: create intent, mint an
// enrollment token, run the scripted agent; the cluster is in sync and shows its two sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startServer, freePort } from '../helpers/process.ts';

const SCRIPT = fileURLToPath(new URL('../../agents/examples/scripted-agent.ts', import.meta.url));


test('the scripted agent enrolls, polls 200 then 304, reports two sessions; the cluster is in sync', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'metalfleet-scripted-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer({ METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', PORT: String(port), METALFLEET_PUBLIC_URL: '' });
  try {
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    await call('POST', '/v1/tenants', { slug: 'acme', name: 'ACME' });
    await call('POST', '/v1/tenants/acme/grants', { cidr: '203.0.113.0/24' });
    await call('PUT', '/v1/tenants/acme/policy', { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['192.0.2.0/24'] });
    await call('POST', '/v1/tenants/acme/clusters', { name: 'edge-1', backend: 'frr' });
    await call('POST', '/v1/tenants/acme/pools', { name: 'web', cidrs: ['203.0.113.0/26'] });
    await call('POST', '/v1/tenants/acme/peers', { name: 'tor-a', myASN: 64512, peerASN: 64600, peerAddress: '192.0.2.1' });
    await call('POST', '/v1/tenants/acme/bgp-advertisements', { name: 'web-out' });
    const { token } = await call('POST', '/v1/tenants/acme/clusters/edge-1/enrollment-tokens', {});

    const output = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--url', url, '--token', token], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      child.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(output.code, 0, output.out);
    assert.match(output.out, /poll 1: 200 revision \d+ \(frr/);
    assert.match(output.out, /poll 2: 304/);

    const status = await call('GET', '/v1/tenants/acme/clusters/edge-1/status');
    assert.equal(status.syncState, 'in-sync');
    const sessions = await call('GET', '/v1/tenants/acme/clusters/edge-1/sessions');
    assert.deepEqual(sessions.items.map((s: { node: string; bgpState: string }) => `${s.node}:${s.bgpState}`), ['node-a:Established', 'node-b:Established']);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
