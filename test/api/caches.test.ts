// The poll path's caches are kept fresh by notifications; a database read that overlaps a
// notification must not put back what the notification just removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from '../../api/caches.ts';

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
