// Wave planning and the gates, as properties: the plan is a function of the policy and the set of
// clusters (never of their order), places every cluster exactly once, honours selectors and
// cumulative percentages; a wave with a red gate never passes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_POLICY } from '../../render/policy.ts';
import { evaluateGates, expectedSessions, planWaves, RolloutPolicy, type GateInput, type PlanCluster } from '../../render/rollout.ts';

const Tier = fc.constantFrom('canary', 'edge', 'core', undefined);
const Clusters = fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), tier: Tier }), { selector: (c) => c.name, maxLength: 60 })
  .map((cs) => cs.map((c, i): PlanCluster => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: c.name, labels: c.tier ? { tier: c.tier } : {} })));
const Wave = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  selector: fc.option(fc.constantFrom('canary', 'edge', 'core').map((tier) => ({ matchLabels: { tier } })), { nil: undefined }),
  percent: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  maxClusters: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
});
const Policy = fc.uniqueArray(Wave, { selector: (w) => w.name, minLength: 1, maxLength: 5 })
  .map((waves) => RolloutPolicy.parse({ waves: waves.map((w) => Object.fromEntries(Object.entries(w).filter(([, v]) => v !== undefined))) }));

describe('planWaves', () => {
  test('deterministic: the same policy and clusters, in any order, give the same plan', () => {
    fc.assert(fc.property(Policy, Clusters, fc.integer(), (policy, clusters, seed) => {
      const shuffled = [...clusters].sort((a, b) => ((a.name.charCodeAt(0) * seed) % 7) - ((b.name.charCodeAt(0) * seed) % 7));
      assert.deepEqual(planWaves(policy, shuffled), planWaves(policy, clusters));
    }), { numRuns: 300 });
  });

  test('every cluster in exactly one wave; waves in policy order; selectors, percentages and caps honoured', () => {
    fc.assert(fc.property(Policy, Clusters, (policy, clusters) => {
      const plan = planWaves(policy, clusters);
      const placed = plan.flatMap((w) => w.clusterIds);
      assert.equal(placed.length, clusters.length);
      assert.deepEqual(new Set(placed), new Set(clusters.map((c) => c.id)));
      const order = policy.waves.map((w) => w.name);
      assert.deepEqual(plan.map((w) => w.name), order.filter((n) => plan.some((w) => w.name === n)));
      let cumulative = 0;
      for (const wave of plan) {
        cumulative += wave.clusterIds.length;
        const spec = policy.waves.find((w) => w.name === wave.name)!;
        if (spec === policy.waves.at(-1)) continue; // the last wave also takes what no wave placed
        if (spec.maxClusters !== undefined) assert.ok(wave.clusterIds.length <= spec.maxClusters);
        if (spec.percent !== undefined) assert.ok(cumulative <= Math.ceil((spec.percent * clusters.length) / 100));
        const tier = spec.selector?.matchLabels?.tier;
        if (tier) for (const id of wave.clusterIds) assert.equal(clusters.find((c) => c.id === id)!.labels.tier, tier);
      }
    }), { numRuns: 300 });
  });

  test('the canary example: 1 cluster labelled tier=canary, then 10%, 50%, 100%', () => {
    const clusters: PlanCluster[] = Array.from({ length: 20 }, (_, i) => ({ id: `id-${i}`, name: `c${String(i).padStart(2, '0')}`, labels: i === 7 ? { tier: 'canary' } : ({} as Record<string, string>) }));
    const policy = RolloutPolicy.parse({ waves: [
      { name: 'canary', selector: { matchLabels: { tier: 'canary' } }, maxClusters: 1 },
      { name: 'ten', percent: 10 }, { name: 'half', percent: 50 }, { name: 'all', percent: 100 },
    ] });
    assert.deepEqual(planWaves(policy, clusters).map((w) => [w.name, w.clusterIds.length]), [['canary', 1], ['ten', 1], ['half', 8], ['all', 10]]);
    assert.deepEqual(planWaves(policy, clusters)[0]!.clusterIds, ['id-7']);
  });

  test('a policy is refused when a timeout is shorter than its bake time, or names repeat', () => {
    assert.equal(RolloutPolicy.safeParse({ waves: [{ name: 'a', bakeSeconds: 60, timeoutSeconds: 30 }] }).success, false);
    assert.equal(RolloutPolicy.safeParse({ waves: [{ name: 'a' }, { name: 'a' }] }).success, false);
  });
});

describe('evaluateGates', () => {
  const up = { node: 'n1', peer: '10.0.0.1', vrf: '', bgpState: 'Established', bfdState: null, prefixesSent: 2 };
  const base: GateInput = {
    toRevision: 5, appliedRevision: 5, reportedSinceApplied: true, lastApplyError: null, sessions: [up], baseline: [up],
    expected: [{ peer: '10.0.0.1', vrf: '', prefixes: 2, bfd: false }], elapsedSeconds: 100, bakeSeconds: 60, timeoutSeconds: 300,
  };
  const Session = fc.record({
    node: fc.constantFrom('n1', 'n2'), peer: fc.constantFrom('10.0.0.1', '10.0.0.2'), vrf: fc.constant(''),
    bgpState: fc.constantFrom('Established', 'Active', 'Idle', 'Connect'), bfdState: fc.constantFrom(null, 'up', 'down'),
    prefixesSent: fc.option(fc.nat(4), { nil: null }),
  });
  const Input = fc.record({
    toRevision: fc.constant(5), appliedRevision: fc.option(fc.integer({ min: 3, max: 6 }), { nil: null }), reportedSinceApplied: fc.boolean(),
    lastApplyError: fc.option(fc.constant('frr-reload failed'), { nil: null }),
    sessions: fc.array(Session, { maxLength: 4 }), baseline: fc.array(Session, { maxLength: 4 }),
    expected: fc.array(fc.record({ peer: fc.constantFrom('10.0.0.1', '10.0.0.2'), vrf: fc.constant(''), prefixes: fc.nat(3), bfd: fc.boolean() }), { maxLength: 2 }),
    elapsedSeconds: fc.nat(400), bakeSeconds: fc.nat(100), timeoutSeconds: fc.integer({ min: 100, max: 300 }),
  });

  test('a red gate never passes; green after the bake passes; red at the timeout fails', () => {
    fc.assert(fc.property(Input, (input) => {
      const { verdict, gates } = evaluateGates(input);
      const red = gates.some((g) => !g.ok);
      if (red) assert.notEqual(verdict, 'pass');
      if (!red && input.elapsedSeconds >= input.bakeSeconds) assert.equal(verdict, 'pass');
      if (red && input.elapsedSeconds >= input.timeoutSeconds) assert.equal(verdict, 'fail');
      if (verdict === 'pass') assert.ok(input.appliedRevision === input.toRevision && input.reportedSinceApplied, 'only evidence from after the apply passes');
    }), { numRuns: 1000 });
  });

  test('healthy and baked: pass; before the bake, or before a report made after the apply: wait', () => {
    assert.equal(evaluateGates(base).verdict, 'pass');
    assert.equal(evaluateGates({ ...base, reportedSinceApplied: false }).verdict, 'wait');
    assert.equal(evaluateGates({ ...base, elapsedSeconds: 10 }).verdict, 'wait');
  });

  test('a session the change brought down fails at the timeout, with its state as evidence', () => {
    const down = { ...up, bgpState: 'Active', prefixesSent: 0 };
    assert.equal(evaluateGates({ ...base, sessions: [down] }).verdict, 'wait');
    const failed = evaluateGates({ ...base, sessions: [down], elapsedSeconds: 300 });
    assert.equal(failed.verdict, 'fail');
    assert.match(failed.gates.find((g) => g.gate === 'sessions-established')!.evidence, /10\.0\.0\.1: Active/);
  });

  test('a session that was down before the change may stay down', () => {
    const down = { ...up, bgpState: 'Active', prefixesSent: 0 };
    assert.equal(evaluateGates({ ...base, sessions: [down], baseline: [down] }).verdict, 'pass');
  });

  test('fewer prefixes advertised than the config gives the neighbor, BFD down where configured, an apply error', () => {
    assert.equal(evaluateGates({ ...base, sessions: [{ ...up, prefixesSent: 1 }] }).gates.find((g) => g.gate === 'prefixes-advertised')!.ok, false);
    const bfd = evaluateGates({ ...base, sessions: [{ ...up, bfdState: 'down' }], expected: [{ ...base.expected[0]!, bfd: true }] });
    assert.equal(bfd.gates.find((g) => g.gate === 'bfd-up')!.ok, false);
    const error = evaluateGates({ ...base, appliedRevision: 4, lastApplyError: 'vtysh: bad config', elapsedSeconds: 1 });
    assert.equal(error.verdict, 'fail', 'an apply error fails at once');
  });

  test('expectedSessions: per neighbor, the prefixes the rendered config gives it and whether BFD is on', () => {
    const intent = {
      cluster: { name: 'c', backend: 'frr' as const }, policy: DEFAULT_POLICY,
      pools: [{ name: 'p', cidrs: ['198.51.100.0/28', '198.51.100.16/28'] }],
      peers: [{ name: 'tor', myASN: 64512, peerASN: 64500, peerAddress: '10.0.0.1', bfdProfile: 'fast' }],
      bfdProfiles: [{ name: 'fast' }],
      advertisements: [{ name: 'a', type: 'bgp' as const, ipAddressPools: ['p'] }],
    };
    assert.deepEqual(expectedSessions(intent as never), [{ peer: '10.0.0.1', vrf: '', prefixes: 2, bfd: true }]);
  });
});
