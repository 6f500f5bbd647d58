// validateIntent: every reason a cluster's intent cannot be rendered for its backend, each with a
// stable code, the path of the offending field, a message and a remedy. Mirrors MetalLB's rules
// (internal/config/config.go, validation.go, the webhooks; v0.16.1) per object
// (validate-objects.ts) and across objects (validate-cluster.ts), refuses what the backend cannot
// express from one capability table (capabilities.ts), and applies FRR's same-host peering limits
// (local-peering.ts) and the tenant policy. Pure.
import type { ClusterIntent } from './model.ts';
import { IDENTIFIER, RESOURCE_NAME } from './grammar.ts';
import { Collector, type Problem } from './problems.ts';
import { validateCapabilities } from './capabilities.ts';
import { isLocalPeer, validateLocalPeering } from './local-peering.ts';
import {
  advertisementProblems, bfdProfileProblems, communityAliasProblems, peerProblems, poolProblems, type ObjectContext,
} from './validate-objects.ts';
import {
  poolEntries, validateAdvertisementInCluster, validateLocalPrefs, validatePeersSharingNodes, validatePoolOverlap,
} from './validate-cluster.ts';

export function validateIntent(intent: ClusterIntent): Problem[] {
  const out = new Collector();
  const { cluster } = intent;

  if (!IDENTIFIER.test(cluster.name)) {
    out.add('invalid-name', 'cluster/name',
      'the cluster name becomes the FRR hostname and must match [A-Za-z0-9._-]{1,63}', 'rename the cluster');
  }
  if (!RESOURCE_NAME.test(cluster.namespace)) {
    out.add('invalid-namespace', 'cluster/namespace', 'the namespace must be a Kubernetes namespace name',
      'use a lowercase DNS label such as metallb-system');
  }
  if (!intent.policy.allowedBackends.includes(cluster.backend)) {
    out.add('backend-not-allowed', 'cluster/backend', `the tenant policy does not allow backend ${cluster.backend}`,
      `use one of ${intent.policy.allowedBackends.join(', ') || '(none)'} or ask a platform admin to allow it`);
  }

  checkUniqueNames(out, 'pools', intent.pools);
  checkUniqueNames(out, 'peers', intent.peers);
  checkUniqueNames(out, 'bfdProfiles', intent.bfdProfiles);
  checkUniqueNames(out, 'communities', intent.communities);
  // A BGP and an L2 advertisement are different kinds in MetalLB: they may share a name.
  checkUniqueNames(out, 'advertisements', intent.advertisements.filter((a) => a.type === 'bgp'));
  checkUniqueNames(out, 'advertisements', intent.advertisements.filter((a) => a.type === 'l2'), false);

  for (const pool of intent.pools) out.addAll(`pools/${pool.name}`, poolProblems(pool));
  validatePoolOverlap(out, intent);
  const entries = poolEntries(intent);
  const ctx: ObjectContext = { policy: intent.policy, bfdProfileNames: intent.bfdProfiles.map((p) => p.name), communities: intent.communities };
  for (const profile of intent.bfdProfiles) out.addAll(`bfdProfiles/${profile.name}`, bfdProfileProblems(profile));
  for (const alias of intent.communities) out.addAll(`communities/${alias.name}`, communityAliasProblems(alias));
  for (const peer of intent.peers) {
    out.addAll(`peers/${peer.name}`, peerProblems(peer, ctx));
    if (isLocalPeer(peer) && intent.policy.allowLocalPeering) validateLocalPeering(out, intent, peer);
  }
  validatePeersSharingNodes(out, intent);
  for (const adv of intent.advertisements) {
    out.addAll(`advertisements/${adv.name}`, advertisementProblems(adv, ctx));
    validateAdvertisementInCluster(out, intent, adv, entries);
  }
  validateLocalPrefs(out, intent, entries);
  validateCapabilities(out, intent);
  return out.problems;
}

function checkUniqueNames(out: Collector, collection: string, items: Array<{ name: string }>, checkGrammar = true) {
  const seen = new Set<string>();
  for (const item of items) {
    if (checkGrammar && !RESOURCE_NAME.test(item.name)) {
      out.add('invalid-name', `${collection}/${item.name}`, `${JSON.stringify(item.name)} is not a valid name`,
        'use lowercase letters, digits, inner . and -, at most 63 characters');
    }
    if (seen.has(item.name)) out.add('duplicate-name', `${collection}/${item.name}`,
      `two ${collection} of one kind are named ${item.name}`, 'rename one of them');
    seen.add(item.name);
  }
}

export type { Problem } from './problems.ts';
export {
  advertisementProblems, bfdProfileProblems, communityAliasProblems, peerProblems, poolProblems, selectorListProblems, type ObjectContext,
} from './validate-objects.ts';
export { effectiveFrrVersion, isFrrBackend, isLocalPeer, needsAllowReservedRanges } from './local-peering.ts';
export { advertisedPeers, advertisedPools, effectiveTimers, resolveCommunity } from './resolve.ts';
