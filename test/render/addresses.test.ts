import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstFreeBlocks } from '../../render/addresses.ts';

test('the first free aligned blocks of the grants, skipping used space', () => {
  assert.deepEqual(firstFreeBlocks({ family: 4, prefixLength: 28, count: 2, grants: ['203.0.113.0/24'], used: ['203.0.113.0/28', '203.0.113.20/30'] }),
    ['203.0.113.32/28', '203.0.113.48/28']);
  assert.deepEqual(firstFreeBlocks({ family: 6, prefixLength: 64, count: 1, grants: ['2001:db8:100::/48'], used: ['2001:db8:100::/64'] }),
    ['2001:db8:100:1::/64']);
});

test('several grants are used in address order; other families are ignored', () => {
  assert.deepEqual(firstFreeBlocks({ family: 4, prefixLength: 25, count: 3, grants: ['198.51.100.0/24', '192.0.2.0/25', '2001:db8::/32'], used: [] }),
    ['192.0.2.0/25', '198.51.100.0/25', '198.51.100.128/25']);
});

test('a block larger than every grant, or no room left, is undefined', () => {
  assert.equal(firstFreeBlocks({ family: 4, prefixLength: 23, count: 1, grants: ['203.0.113.0/24'], used: [] }), undefined);
  assert.equal(firstFreeBlocks({ family: 4, prefixLength: 25, count: 3, grants: ['203.0.113.0/24'], used: [] }), undefined);
  assert.equal(firstFreeBlocks({ family: 6, prefixLength: 64, count: 1, grants: ['203.0.113.0/24'], used: [] }), undefined);
});

test('huge IPv6 spaces are searched by gaps, not block by block', () => {
  const used = Array.from({ length: 1000 }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
  assert.deepEqual(firstFreeBlocks({ family: 6, prefixLength: 120, count: 1, grants: ['2001:db8::/32'], used }), ['2001:db8:3e8::/120']);
});
