// The poll path's caches are kept fresh by notifications; a database read that overlaps a
// notification must not put back what the notification just removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEARTBEAT_CHANNEL, listenForInvalidations, notifiedPollCaches, TtlCache } from '../../api/caches.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

test('a read answered before any invalidation is cached', async () => {
  const cache = new TtlCache<number>(60_000);
  assert.equal(await cache.fill('cluster-a', async () => 7), 7);
  assert.equal(cache.get('cluster-a'), 7);
});

test('a read that overlaps an invalidation is answered but not cached', async () => {
  for (const invalidate of [(c: TtlCache<number>) => c.delete('cluster-a'), (c: TtlCache<number>) => c.delete('cluster-b'), (c: TtlCache<number>) => c.clear()]) {
    const cache = new TtlCache<number>(60_000);
    const read = deferred<number>();
    const filling = cache.fill('cluster-a', () => read.promise);
    // The notification of a newer revision arrives while the read (which saw the old one) is in flight.
    invalidate(cache);
    read.resolve(6);
    assert.equal(await filling, 6);
    assert.equal(cache.get('cluster-a'), undefined, 'the stale revision must not stay cached for the TTL');
    // The next read, after the change, is cached as usual.
    assert.equal(await cache.fill('cluster-a', async () => 7), 7);
    assert.equal(cache.get('cluster-a'), 7);
  }
});

test('while the database is away: the last desired revision read answers; an invalidated identity never does', async () => {
  const desired = new TtlCache<number>(60_000, Date.now, () => true, 'always');
  const agents = new TtlCache<number>(60_000);
  const read = deferred<number>();
  const filling = desired.fill('cluster-a', () => read.promise);
  desired.delete('cluster-a'); // a newer revision was announced while this read was in flight
  read.resolve(6);
  await filling;
  assert.equal(desired.get('cluster-a'), undefined);
  assert.equal(desired.lastKnown('cluster-a'), 6, 'what the agent was last given');
  agents.set('agent-a', 1);
  agents.delete('agent-a'); // revoked
  assert.equal(agents.lastKnown('agent-a'), undefined);
  // A read that overlapped a revocation is not remembered either.
  const agentRead = deferred<number>();
  const agentFill = agents.fill('agent-a', () => agentRead.promise);
  agents.delete('agent-a');
  agentRead.resolve(1);
  await agentFill;
  assert.equal(agents.lastKnown('agent-a'), undefined);
});

test('a clear on resubscribing announces nothing: identities stay known for a database outage that follows', async () => {
  const agents = new TtlCache<number>(60_000);
  const read = deferred<number>();
  const filling = agents.fill('agent-a', () => read.promise);
  agents.clear(); // the listener resubscribed while the agent was read
  read.resolve(1);
  await filling;
  assert.equal(agents.get('agent-a'), undefined, 'not cached: the read overlapped an invalidation');
  assert.equal(agents.lastKnown('agent-a'), 1);
  agents.clear();
  assert.equal(agents.lastKnown('agent-a'), 1);
});

test('nothing is cached for a key the database does not have', async () => {
  const cache = new TtlCache<number>(60_000);
  assert.equal(await cache.fill('gone', async () => undefined), undefined);
  assert.equal(cache.size, 0);
});

test('entries expire after the TTL', () => {
  let now = 0;
  const cache = new TtlCache<number>(1_000, () => now);
  cache.set('cluster-a', 1);
  now = 1_000;
  assert.equal(cache.get('cluster-a'), 1);
  now = 1_001;
  assert.equal(cache.get('cluster-a'), undefined);
});

// The caches answer only while the listener demonstrably hears the database (heartbeats); a
// silently dead listener must not leave them trusted for the TTL.
test('a listener that hears no heartbeat stops the caches answering; hearing one again drops everything first', async () => {
  let now = 0;
  const caches = notifiedPollCaches({ now: () => now, heartbeatMs: 1_000 });
  const handlers = new Map<string, { onPayload: (p: string) => void; onListen?: () => void }>();
  const sent: string[] = [];
  const database = {
    async listen(channel: string, onPayload: (p: string) => void, onListen?: () => void) {
      handlers.set(channel, { onPayload, ...(onListen ? { onListen } : {}) });
      onListen?.();
      return async () => {};
    },
    db: { execute: async (q: unknown) => { sent.push(String(q)); return []; } } as never,
  };
  let reloads = 0;
  caches.afterClear = () => { reloads++; }; // serve loads everything again in bulk
  const stop = await listenForInvalidations(database, caches, { heartbeatMs: 1_000 });
  const subscribedReloads = reloads;
  caches.desired.set('cluster-a', { revision: 3, sha256: 'x' });
  assert.deepEqual(caches.desired.get('cluster-a'), { revision: 3, sha256: 'x' }, 'subscribed: trusted');
  now = 2_900;
  assert.ok(caches.desired.get('cluster-a'), 'within three heartbeats');
  now = 3_100;
  assert.equal(caches.desired.get('cluster-a'), undefined, 'no heartbeat for three intervals: polls must read the database');
  assert.deepEqual(caches.desired.lastKnown('cluster-a'), { revision: 3, sha256: 'x' }, 'kept for when the database is away');
  handlers.get(HEARTBEAT_CHANNEL)!.onPayload('');
  assert.equal(caches.desired.get('cluster-a'), undefined, 'heard again: what was cached while deaf is dropped, not trusted again');
  assert.equal(reloads, subscribedReloads + 1, 'and the caches are to be loaded again');
  caches.desired.set('cluster-a', { revision: 4, sha256: 'y' });
  assert.deepEqual(caches.desired.get('cluster-a'), { revision: 4, sha256: 'y' });
  await stop!();
});
