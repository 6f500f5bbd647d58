import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseCidr, parseCommunity, parseDurationMs, parseIp, parseVersion, versionAtLeast } from '../../render/grammar.ts';

test('IP addresses are parsed strictly and printed canonically', () => {
  assert.equal(parseIp('2001:DB8:0:0::1').text, '2001:db8::1');
  assert.equal(parseIp('10.0.0.1').text, '10.0.0.1');
  for (const bad of ['010.0.0.1', '10.1', '0x0a.0.0.1', '4294967295', 'fe80::1%eth0', ' 10.0.0.1', '10.0.0.1\n', '1.2.3.256', ':::', ''])
    assert.throws(() => parseIp(bad), bad);
});

test('CIDRs must name a network; host bits are refused with the network to use', () => {
  assert.equal(parseCidr('2001:DB8::/32').text, '2001:db8::/32');
  assert.throws(() => parseCidr('10.0.0.1/24'), /the network is 10\.0\.0\.0\/24/);
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/-1', '::/129']) assert.throws(() => parseCidr(bad), bad);
});

test('IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused in every spelling: Go reads it as IPv4, PostgreSQL as IPv6', () => {
  for (const bad of ['::ffff:198.51.100.5', '::ffff:c633:6405', '0:0:0:0:0:ffff:c633:6405', '::FFFF:c633:6405']) {
    assert.throws(() => parseIp(bad), /IPv4-mapped/, bad);
  }
  for (const bad of ['::ffff:198.51.100.0/120', '::ffff:c633:6400/120', '::ffff:0:0/96']) assert.throws(() => parseCidr(bad), /IPv4-mapped/, bad);
  assert.equal(parseIp('::fffe:c633:6405').family, 6, 'a neighbour of the mapped range is plain IPv6');
  assert.equal(parseCidr('::/0').text, '::/0', 'a CIDR that merely contains the mapped range stays valid (policies use ::/0)');
});

test('communities: 16-bit standard parts, 32-bit large parts, canonical decimal', () => {
  assert.deepEqual(parseCommunity('64500:100'), { kind: 'standard', text: '64500:100' });
  assert.deepEqual(parseCommunity('large:4294967295:0:1'), { kind: 'large', text: 'large:4294967295:0:1', frrText: '4294967295:0:1' });
  for (const bad of ['65536:1', '1:2:3', 'large:1:2', 'large:4294967296:0:0', 'no-export', '01:1', ' 1:1']) assert.throws(() => parseCommunity(bad), bad);
});

test('durations: Go syntax in, Kubernetes form out', () => {
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.throws(() => parseDurationMs('90'));
  assert.throws(() => parseDurationMs('1m 30s'));
  assert.equal(formatDuration(90), '1m30s');
  assert.equal(formatDuration(3), '3s');
  assert.equal(formatDuration(3661), '1h1m1s');
});

test('FRR versions compare numerically', () => {
  assert.deepEqual(parseVersion('10.0.1-dev'), [10, 0, 1]);
  assert.ok(versionAtLeast(parseVersion('10.0')!, [9, 0, 0]));
  assert.ok(!versionAtLeast(parseVersion('8.4.4')!, [9, 0, 0]));
  assert.equal(parseVersion('unknown'), undefined);
});
