// Key rotation end to end, as docs/operations.md tells an operator to do it: the server's signing
// key (JWKS overlap, then `keys resign`) and the secret key (previous key opens, `secrets reseal`
// moves everything, then the previous key goes). Several apps on one database stand for the
// instances before, during and after each step; one agent client follows them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import { sql } from 'drizzle-orm';
import { AgentClient, generateAgentKey, IntegrityError } from '../../agents/client.ts';
import { createApp } from '../../api/app.ts';
import { generateSigningKeyJwk, importPreviousSigningKeys, importSigningKey, type AuthConfig, type SigningKey } from '../../api/auth.ts';
import { resealSecrets, resignRevisions } from '../../api/key-rotation.ts';
import { resultRows } from '../../db/client.ts';
import { generateSecretKeyText, importSecretKey, importSecretKeys, type SecretKey } from '../../db/secrets.ts';
import { withPlatform } from '../../db/tenant.ts';
import { inProcessFetch, PUBLIC_URL, seedApiTenant, startHarness, type Harness } from '../helpers/api.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof seedApiTenant>>;
// The keys every instance starts with, as their environment holds them (the harness's own seal nothing here).
const signingJwkA = await generateSigningKeyJwk();
const secretTextA = generateSecretKeyText();
let keys: { secretKey: SecretKey; auth: AuthConfig };

before(async () => {
  h = await startHarness();
  t = await seedApiTenant(h, 'rotate');
  keys = { secretKey: await importSecretKey(secretTextA), auth: { signingKey: await importSigningKey(signingJwkA) } };
});
after(() => h.close());

type App = ReturnType<typeof createApp>;
const logged: Array<Record<string, unknown>> = [];

/** Another instance on the same database, configured with other keys. */
function instance(opts: { secretKey?: SecretKey; auth?: AuthConfig }): App {
  return createApp({
    db: h.database.db, secretKey: opts.secretKey ?? keys.secretKey, auth: opts.auth ?? keys.auth, log: (e) => logged.push(e), publicUrl: PUBLIC_URL,
  });
}

/** An agent whose requests go to whichever instance `route()` names at the time (a load balancer during a rollout). */
function followingAgent(route: () => App): AgentClient {
  const fetchFromRoute = (input: string, init?: RequestInit) => inProcessFetch(route())(input, init);
  return new AgentClient({ baseUrl: PUBLIC_URL, fetch: fetchFromRoute as typeof fetch });
}

async function call(app: App, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${t.tenantAdmin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}
const tenantPath = (path: string) => `/v1/tenants/${t.slug}/${path}`;

async function enroll(app: App, agent: AgentClient, cluster: string) {
  const minted = await call(app, 'POST', tenantPath(`clusters/${cluster}/enrollment-tokens`), {});
  assert.equal(minted.status, 201, minted.text);
  await agent.enroll(minted.body.token, { privateJwk: await generateAgentKey() });
}

/** The agent fetches and verifies its desired config (a 200, whatever it held). */
async function fetched(agent: AgentClient) {
  const result = await agent.fetchConfig();
  assert.equal(result.status, 200);
  return result.config;
}

const kidOf = (signature: string) => decodeProtectedHeader(signature).kid;

async function storedSignatureKids(): Promise<string[]> {
  const rows = resultRows<{ signature: string }>(await withPlatform(h.database.db, (tx) => tx.execute(sql`select signature from config_revisions`)));
  return [...new Set(rows.map((r) => String(kidOf(r.signature))))].sort();
}

async function storedEnvelopeKeyIds(): Promise<string[]> {
  const rows = resultRows<{ key_id: string }>(await withPlatform(h.database.db, (tx) => tx.execute(sql`
    select split_part(password_encrypted, '.', 2) as key_id from peers where password_encrypted is not null
    union select split_part(content, '.', 2) from config_revisions
    union select split_part(intent, '.', 2) from config_revisions where intent is not null`)));
  return rows.map((r) => r.key_id).sort();
}

describe('signing key rotation', () => {
  test('A, then B with A previous, resign, drop A: agents verify every step; without resign they would not', async () => {
    const keyA = keys.auth.signingKey;
    const withA = instance({});
    // Two clusters: "steady" is never written to again, so it keeps serving its revision signed by A.
    for (const name of ['steady', 'busy']) {
      assert.equal((await call(withA, 'POST', tenantPath('clusters'), { name, backend: 'frr', labels: { rot: name } })).status, 201);
    }
    let route = withA;
    const steady = followingAgent(() => route);
    const busy = followingAgent(() => route);
    await enroll(withA, steady, 'steady');
    await enroll(withA, busy, 'busy');
    const steadyFirst = await steady.fetchConfig();
    const busyFirst = await busy.fetchConfig();
    assert.equal(steadyFirst.status, 200);
    assert.equal(busyFirst.status, 200);

    const jwkB = await generateSigningKeyJwk();
    const keyB: SigningKey = await importSigningKey(jwkB);
    // METALFLEET_SIGNING_KEYS_PREVIOUS holds A as METALFLEET_SIGNING_KEY held it (private): only the public part is kept.
    const previous = await importPreviousSigningKeys(JSON.stringify([signingJwkA, keyA.publicJwk]));
    assert.deepEqual(previous.map((k) => k.kid), [keyA.kid], 'the same key twice is published once');
    const withBandA = instance({ auth: { signingKey: keyB, previousSigningKeys: previous } });
    const jwks = await (await withBandA.request('/.well-known/jwks.json')).json() as { keys: Array<{ kid: string; d?: string }> };
    assert.deepEqual(jwks.keys.map((k) => k.kid), [keyB.kid, keyA.kid]);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private part is published');

    // Rolled out: new revisions are signed with B; the steady cluster still serves A's, and both verify.
    route = withBandA;
    const write = await call(withBandA, 'POST', tenantPath('peers'), {
      name: 'busy-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.7', clusterSelector: { matchLabels: { rot: 'busy' } },
    });
    assert.equal(write.status, 201, write.text);
    const busySecond = await busy.fetchConfig(busyFirst.etag);
    assert.equal(busySecond.status, 200, 'the write gave busy a new revision');
    assert.equal(busySecond.config!.revision, busyFirst.config!.revision + 1);
    // Why step 1 publishes B while A still signs: in a rolling update the JWKS may come from an
    // instance that does not sign with B yet. Published first, B verifies; not published, it does not.
    const publishing = instance({ auth: { signingKey: keyA, previousSigningKeys: await importPreviousSigningKeys(JSON.stringify(jwkB)) } });
    const published = await (await publishing.request('/.well-known/jwks.json')).json() as { keys: Array<{ kid: string }> };
    assert.deepEqual(published.keys.map((k) => k.kid), [keyA.kid, keyB.kid]);
    for (const [jwksFrom, verifies] of [[publishing, true], [withA, false]] as const) {
      const mixed = new AgentClient({ baseUrl: PUBLIC_URL, fetch: ((input: string, init?: RequestInit) =>
        inProcessFetch(input.endsWith('/.well-known/jwks.json') ? jwksFrom : withBandA)(input, init)) as typeof fetch });
      await enroll(withBandA, mixed, 'busy');
      if (verifies) assert.equal((await fetched(mixed)).revision, busySecond.config.revision);
      else await assert.rejects(mixed.fetchConfig(), IntegrityError);
    }

    const fresh = followingAgent(() => route);
    await enroll(withBandA, fresh, 'steady');
    assert.equal((await fresh.fetchConfig()).status, 200, 'a revision signed by A verifies against the JWKS of B and A');
    assert.deepEqual(await storedSignatureKids(), [keyA.kid, keyB.kid].sort());

    // Dropping A before resigning is what the procedure forbids: an agent fetching steady's config refuses it.
    route = instance({ auth: { signingKey: keyB } });
    const early = followingAgent(() => route);
    await enroll(route, early, 'steady');
    await assert.rejects(early.fetchConfig(), IntegrityError);

    // Resign while B and A are published: every revision of A gets B's signature, once.
    route = withBandA;
    const resigned = await resignRevisions(h.database.db, keyB, { batch: 2 });
    assert.equal(resigned.resigned, 2, `the first revisions of steady and busy: ${JSON.stringify(resigned)}`);
    assert.deepEqual(Object.keys(resigned.byKid), [keyA.kid]);
    assert.equal(resigned.byKid[keyA.kid], resigned.resigned);
    assert.equal(resigned.remaining, 0);
    assert.deepEqual(await storedSignatureKids(), [keyB.kid]);
    const again = await resignRevisions(h.database.db, keyB);
    assert.deepEqual({ resigned: again.resigned, remaining: again.remaining }, { resigned: 0, remaining: 0 }, 'idempotent');

    // A dropped: the ETags did not change (nobody refetches), and whoever fetches gets B's signatures.
    route = instance({ auth: { signingKey: keyB } });
    assert.equal((await steady.fetchConfig(steadyFirst.etag)).status, 304);
    assert.equal((await busy.fetchConfig(busySecond.etag)).status, 304);
    const late = followingAgent(() => route);
    await enroll(route, late, 'steady');
    const verified = await late.fetchConfig();
    assert.equal(verified.status, 200);
    assert.equal(verified.config!.sha256, steadyFirst.config!.sha256);
    const jwksAfter = await (await route.request('/.well-known/jwks.json')).json() as { keys: Array<{ kid: string }> };
    assert.deepEqual(jwksAfter.keys.map((k) => k.kid), [keyB.kid]);
  });

  test('previous signing keys: a JWK, an array or a JWK set; anything else refused', async () => {
    const one = await generateSigningKeyJwk();
    const two = await generateSigningKeyJwk();
    assert.equal((await importPreviousSigningKeys(JSON.stringify(one))).length, 1);
    assert.equal((await importPreviousSigningKeys(JSON.stringify({ keys: [one, two] }))).length, 2);
    for (const bad of ['', 'nope', '[]', '{"kty":"RSA","n":"x","e":"AQAB"}', '{"kty":"OKP","crv":"Ed25519","x":"short"}']) {
      await assert.rejects(importPreviousSigningKeys(bad), /previous signing keys must be/, bad);
    }
  });
});

describe('secret key rotation', () => {
  test('previous key opens, reseal moves every envelope, then the new key alone serves everything', async () => {
    const oldKey = keys.secretKey;
    const withOld = instance({});
    assert.equal((await call(withOld, 'POST', tenantPath('clusters'), { name: 'sealed', backend: 'frr', labels: { seal: 'yes' } })).status, 201);
    assert.equal((await call(withOld, 'POST', tenantPath('peers'), {
      name: 'sealed-tor', myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.8', password: 'Rotat3Me',
      clusterSelector: { matchLabels: { seal: 'yes' } },
    })).status, 201);
    let route = withOld;
    const agent = followingAgent(() => route);
    await enroll(withOld, agent, 'sealed');
    const first = await agent.fetchConfig();
    assert.equal(first.status, 200);
    assert.match(first.config.content, /password Rotat3Me/);

    const newText = generateSecretKeyText();
    const newKey = await importSecretKey(newText);
    // METALFLEET_SECRET_KEY_PREVIOUS as an operator writes it: the old value (twice, and the new one, by mistake).
    const ring = await importSecretKeys(newText, ` ${secretTextA},${secretTextA} ${newText}`);
    assert.equal(ring.id, newKey.id);
    assert.deepEqual(ring.previous?.map((k) => k.id), [oldKey.id]);
    await assert.rejects(importSecretKeys(newText, 'not-a-key'), /METALFLEET_SECRET_KEY_PREVIOUS: each key must be 32 bytes/);

    // Rolled out with the previous key: old envelopes open, new ones are sealed with the new key.
    route = instance({ secretKey: ring });
    const etag = (await call(route, 'GET', tenantPath('peers/sealed-tor'))).headers.get('etag')!;
    assert.equal((await call(route, 'PATCH', tenantPath('peers/sealed-tor'), { holdTime: '30s' }, { 'if-match': etag })).status, 200);
    const second = await agent.fetchConfig(first.etag);
    assert.equal(second.status, 200);
    assert.match(second.config.content, /password Rotat3Me/, 'the password sealed by the old key was opened to render');
    assert.deepEqual(new Set(await storedEnvelopeKeyIds()), new Set([oldKey.id, newKey.id]));
    // Why step 1 makes the new key known first: an instance not yet switched must open what a switched one sealed.
    const notSwitched = instance({ secretKey: await importSecretKeys(secretTextA, newText) });
    const lagging = followingAgent(() => notSwitched);
    await enroll(notSwitched, lagging, 'sealed');
    assert.equal((await fetched(lagging)).revision, second.config.revision);
    const unprepared = await call(instance({ secretKey: oldKey }), 'GET', tenantPath('clusters/sealed/config'));
    assert.equal(unprepared.status, 503, 'an instance without the new key cannot');

    const peersBefore = (await call(route, 'GET', tenantPath('peers/sealed-tor'))).headers.get('etag');
    const resealed = await resealSecrets(h.database.db, ring, { batch: 2 });
    assert.ok(resealed.resealed['peer-password'] >= 1, JSON.stringify(resealed));
    assert.ok(resealed.resealed['revision-content'] >= 2);
    assert.ok(resealed.resealed['revision-intent'] >= 2);
    assert.deepEqual(resealed.remaining, []);
    assert.deepEqual(resealed.unknownKeyIds, []);
    assert.deepEqual(await storedEnvelopeKeyIds(), [newKey.id]);
    const again = await resealSecrets(h.database.db, ring);
    assert.deepEqual(again.resealed, { 'peer-password': 0, 'revision-content': 0, 'revision-intent': 0 }, 'idempotent');

    // The previous key dropped: polls, old revisions, rollback, export and renders all work.
    keys.secretKey = newKey;
    route = instance({ secretKey: newKey });
    assert.equal((await call(route, 'GET', tenantPath('peers/sealed-tor'))).headers.get('etag'), peersBefore, 'resealing is not a change of the peer');
    const fresh = followingAgent(() => route);
    await enroll(route, fresh, 'sealed');
    assert.match((await fetched(fresh)).content, /password Rotat3Me/);
    const old = await call(route, 'GET', tenantPath(`clusters/sealed/config?revision=${first.config.revision}`));
    assert.equal(old.status, 200, old.text);
    const rolled = await call(route, 'POST', tenantPath('clusters/sealed/rollback'), { revision: first.config.revision });
    assert.equal(rolled.status, 201, rolled.text);
    assert.equal(rolled.body.sha256, first.config.sha256);
    assert.equal((await call(route, 'GET', tenantPath('intent'))).status, 200);
  });

  test('an envelope of a key the server does not have: 503 secret-key-unknown naming it, a log line, never a 500', async () => {
    const stranger = await importSecretKey(generateSecretKeyText());
    const current = instance({});
    assert.equal((await call(current, 'POST', tenantPath('clusters'), { name: 'lost', backend: 'frr', labels: { lost: 'yes' } })).status, 201);
    const agent = followingAgent(() => instance({ secretKey: stranger }));
    await enroll(current, agent, 'lost');
    logged.length = 0;
    const poll = await agent.fetchConfig().then(() => undefined, (err: unknown) => err);
    assert.ok(poll instanceof Error && 'status' in poll, String(poll));
    assert.equal((poll as { status: number }).status, 503);
    assert.equal((poll as { problem?: { code?: string } }).problem?.code, 'secret-key-unknown');
    const line = logged.find((e) => e.msg === 'stored secret cannot be opened');
    assert.ok(line, JSON.stringify(logged));
    assert.equal(line.failure, 'unknown-key');
    assert.match(String(line.keyId), /^[0-9a-f]{8}$/);
    assert.ok(!logged.some((e) => e.msg === 'unhandled error'));

    const people = await call(instance({ secretKey: stranger }), 'GET', tenantPath('clusters/lost/config'));
    assert.equal(people.status, 503);
    assert.equal(people.body.code, 'secret-key-unknown');
    assert.match(people.body.detail, new RegExp(`sealed with key ${line.keyId}.*METALFLEET_SECRET_KEY_PREVIOUS`));

    // Reseal with a key that opens none of it: nothing is damaged, what is left is named.
    const result = await resealSecrets(h.database.db, stranger);
    assert.deepEqual(result.unknownKeyIds, [keys.secretKey.id]);
    assert.deepEqual(result.resealed, { 'peer-password': 0, 'revision-content': 0, 'revision-intent': 0 });
    assert.ok(result.remaining.length > 0 && result.remaining.every((r) => r.keyId === keys.secretKey.id));
    assert.equal((await call(current, 'GET', tenantPath('clusters/lost/config'))).status, 200, 'the envelopes are as they were');
  });
});
