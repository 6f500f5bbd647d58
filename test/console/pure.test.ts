// The console's pure helpers: a unified diff laid out side by side, and grant utilisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTwoFilesPatch } from 'diff';
import { sideBySide } from '../../console/diff.ts';
import { addresses, grantUtilisation, percent } from '../../console/utilisation.ts';

test('side by side: removals pair with the additions after them; context on both sides with line numbers', () => {
  const before = 'a\nb\nc\nd\n';
  const after = 'a\nB\nc\nd\ne\n';
  const rows = sideBySide(createTwoFilesPatch('x@r1', 'x@r2', before, after));
  assert.equal(rows[0]!.kind, 'hunk');
  const body = rows.slice(1).map((r) => [r.left ? `${r.left.line}${r.left.removed ? '-' : ' '}${r.left.text}` : '', r.right ? `${r.right.line}${r.right.added ? '+' : ' '}${r.right.text}` : '']);
  assert.deepEqual(body, [['1 a', '1 a'], ['2-b', '2+B'], ['3 c', '3 c'], ['4 d', '4 d'], ['', '5+e']]);
});

test('side by side of a first revision: everything added', () => {
  const rows = sideBySide(createTwoFilesPatch('x@r0', 'x@r1', '', 'one\ntwo\n'));
  assert.deepEqual(rows.filter((r) => r.kind === 'change').map((r) => [r.left, r.right?.text]), [[undefined, 'one'], [undefined, 'two']]);
});

test('grant utilisation counts the addresses of pool entries inside each grant, IPv4 and IPv6, ranges too', () => {
  const uses = grantUtilisation(
    [{ cidr: '198.51.100.0/24' }, { cidr: '2001:db8::/48' }, { cidr: '203.0.113.0/24' }],
    [
      { name: 'a', cidrs: ['198.51.100.0/26', '2001:db8::/64'] },
      { name: 'b', cidrs: ['198.51.100.64-198.51.100.127', '192.0.2.0/24'] },
    ],
  );
  assert.deepEqual(uses.map((u) => [u.cidr, u.used.toString(), u.size.toString(), u.fraction, u.pools]), [
    ['198.51.100.0/24', '128', '256', 0.5, ['a', 'b']],
    ['2001:db8::/48', (1n << 64n).toString(), (1n << 80n).toString(), 0, ['a']],
    ['203.0.113.0/24', '0', '256', 0, []],
  ]);
  assert.equal(percent(uses[0]!), '50.0 %');
  assert.equal(percent(uses[1]!), '< 0.01 %');
  assert.equal(percent(uses[2]!), '0 %');
});

test('address counts: exact up to 2^32, powers of two above', () => {
  assert.equal(addresses(256n), '256');
  assert.equal(addresses(1n << 32n), '4,294,967,296');
  assert.equal(addresses(1n << 80n), '2^80');
  assert.equal(addresses((1n << 64n) + 16n), '≈2^64');
});
