// The key rotation procedure of docs/operations.md, step by step, through the real command:
// serve with keys A, then B with A previous, `keys resign` and `secrets reseal`, then B alone.
// (test/api/key-rotation.test.ts proves the same with agents verifying every step.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMetalfleet, startServer } from '../helpers/process.ts';

async function generatedKeys(): Promise<{ signing: string; secret: string }> {
  const out = (await runMetalfleet(['keys', 'generate'], {})).stdout;
  const env = Object.fromEntries([...out.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
  return { signing: env.METALFLEET_SIGNING_KEY!, secret: env.METALFLEET_SECRET_KEY! };
}

test('rotate both keys: overlap, resign, reseal, drop the previous ones', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mf-rotate-'));
  const [a, b] = await Promise.all([generatedKeys(), generatedKeys()]);
  const base = { METALFLEET_DATA_DIR: dataDir, DATABASE_URL: '', METALFLEET_SIGNING_KEYS_PREVIOUS: '', METALFLEET_SECRET_KEY_PREVIOUS: '' };
  const onlyA = { ...base, METALFLEET_SIGNING_KEY: a.signing, METALFLEET_SECRET_KEY: a.secret };
  const overlap = { ...base, METALFLEET_SIGNING_KEY: b.signing, METALFLEET_SECRET_KEY: b.secret,
    METALFLEET_SIGNING_KEYS_PREVIOUS: a.signing, METALFLEET_SECRET_KEY_PREVIOUS: a.secret };
  const onlyB = { ...base, METALFLEET_SIGNING_KEY: b.signing, METALFLEET_SECRET_KEY: b.secret };
  const kids = async (url: string) => {
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    return jwks.keys.map((k) => k.kid);
  };
  try {
    let server = await startServer(onlyA);
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, text: await res.text() };
    };
    let kidA: string;
    try {
      for (const [path, body] of [
        ['/v1/tenants', { slug: 'rot', name: 'Rot' }],
        ['/v1/tenants/rot/grants', { cidr: '198.51.100.0/24' }],
        ['/v1/tenants/rot/clusters', { name: 'edge', backend: 'frr' }],
        ['/v1/tenants/rot/pools', { name: 'web', cidrs: ['198.51.100.0/28'] }],
        ['/v1/tenants/rot/bgp-advertisements', { name: 'all' }],
      ] as const) assert.equal((await call('POST', path, body)).status, 201, path);
      const policy = { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8'] };
      assert.equal((await call('PUT', '/v1/tenants/rot/policy', policy)).status, 200);
      const peer = await call('POST', '/v1/tenants/rot/peers', {
        name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: '10.250.0.1', password: 'Rotat3Me',
      });
      assert.equal(peer.status, 201, peer.text);
      [kidA] = await kids(server.url) as [string];
    } finally {
      await server.stop();
    }

    // Step 1: B signs and seals, A is previous. Everything stored under A still serves.
    server = await startServer(overlap);
    try {
      const published = await kids(server.url);
      assert.equal(published.length, 2);
      assert.equal(published[1], kidA, 'the current key first, the previous one after it');
      assert.equal((await call('GET', '/v1/tenants/rot/clusters/edge/config')).status, 200);
      assert.equal((await call('GET', '/v1/tenants/rot/intent')).status, 200);
    } finally {
      await server.stop();
    }

    // Without the previous secret key, reseal cannot open A's envelopes: it says so, damages nothing, exits 1.
    const blind = await runMetalfleet(['secrets', 'reseal'], onlyB);
    assert.equal(blind.code, 1, blind.stderr);
    assert.match(blind.stdout, /key [0-9a-f]{8} is not configured: add it to METALFLEET_SECRET_KEY_PREVIOUS/);

    // Step 2: the sweeps.
    const resigned = await runMetalfleet(['keys', 'resign', '--json'], overlap);
    assert.equal(resigned.code, 0, resigned.stderr);
    const resign = JSON.parse(resigned.stdout) as { resigned: number; remaining: number; byKid: Record<string, number> };
    assert.ok(resign.resigned >= 1);
    assert.deepEqual(Object.keys(resign.byKid), [kidA]);
    assert.equal(resign.remaining, 0);
    const resealed = await runMetalfleet(['secrets', 'reseal'], overlap);
    assert.equal(resealed.code, 0, resealed.stderr);
    assert.match(resealed.stdout, /1 peer password\(s\), [1-9]\d* revision content\(s\), [1-9]\d* revision intent\(s\)/);
    assert.match(resealed.stdout, /0 envelopes of other keys remain: METALFLEET_SECRET_KEY_PREVIOUS can go/);

    // Step 3: the previous keys go. Both sweeps now find nothing; the server serves everything.
    const again = await runMetalfleet(['keys', 'resign'], onlyB);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 revision\(s\) of 1 tenant\(s\) re-signed .*; 0 signed by another key remain/);
    assert.equal((await runMetalfleet(['secrets', 'reseal'], onlyB)).code, 0);
    server = await startServer(onlyB);
    try {
      assert.equal((await kids(server.url)).length, 1);
      assert.equal((await call('GET', '/v1/tenants/rot/clusters/edge/config')).status, 200);
      assert.equal((await call('GET', '/v1/tenants/rot/intent')).status, 200);
    } finally {
      await server.stop();
    }

    // Malformed previous keys stop the command with one line naming the variable.
    const bad = await runMetalfleet(['keys', 'resign'], { ...onlyB, METALFLEET_SIGNING_KEYS_PREVIOUS: '{"kty":"RSA"}' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr.trim(), /^metalfleet: METALFLEET_SIGNING_KEYS_PREVIOUS: previous signing keys must be/);
    const badSecret = await runMetalfleet(['secrets', 'reseal'], { ...onlyB, METALFLEET_SECRET_KEY_PREVIOUS: 'short' });
    assert.equal(badSecret.code, 1);
    assert.match(badSecret.stderr.trim(), /^metalfleet: METALFLEET_SECRET_KEY_PREVIOUS: each key must be/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
