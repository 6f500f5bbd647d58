// Which of a tenant's objects a cluster gets: pools, peers and advertisements by their cluster
// selectors (Kubernetes semantics; none = every cluster of the tenant); BFD profiles always (peers
// refer to them by name); community aliases only those its advertisements use (MetalLB native mode
// refuses a large community in any Community object, used or not, so a tenant's unused alias must
// not reach a cluster). A withdrawing
// cluster gets nothing: its config withdraws everything. A pinned cluster (a rollback) gets the
// objects of an earlier revision, under today's policy and facts. Pure.
import type { Advertisement, BfdProfile, Capabilities, ClusterIntentInput, CommunityAlias, Peer, Pool } from './model.ts';
import { selectorMatches, type Backend, type LabelSelector, type Labels, type TenantPolicy } from './policy.ts';
import { GrammarError } from './grammar.ts';
import { parseAddressEntry } from './ranges.ts';
import type { Problem } from './validate.ts';

type Selected<T> = T & { clusterSelector?: LabelSelector | null };

export interface TenantObjects {
  policy: TenantPolicy;
  pools: Array<Selected<Pool>>;
  peers: Array<Selected<Peer>>;
  bfdProfiles: BfdProfile[];
  communities: CommunityAlias[];
  advertisements: Array<Selected<Advertisement>>;
}

export interface ClusterRef {
  name: string;
  backend: Backend;
  namespace: string;
  labels: Labels;
  capabilities: Capabilities;
  /** Being deleted: gets an empty config, which withdraws what it announced. */
  withdrawing?: boolean;
}

const strip = <T extends { clusterSelector?: unknown }>({ clusterSelector: _s, ...rest }: T) => rest;

export function clusterIntent(objects: TenantObjects, cluster: ClusterRef): ClusterIntentInput {
  const selected = <T extends { clusterSelector?: LabelSelector | null }>(items: T[]) =>
    cluster.withdrawing ? [] : items.filter((i) => selectorMatches(i.clusterSelector ?? null, cluster.labels)).map(strip);
  const advertisements = selected(objects.advertisements);
  return {
    cluster: { name: cluster.name, backend: cluster.backend, namespace: cluster.namespace, capabilities: cluster.capabilities },
    policy: policyForCluster(objects.policy, objects.communities),
    pools: selected(objects.pools),
    peers: selected(objects.peers),
    bfdProfiles: objects.bfdProfiles,
    communities: usedAliases(objects.communities, advertisements),
    advertisements,
  };
}

/** The aliases the advertisements name. */
export function usedAliases(aliases: CommunityAlias[],
  advertisements: Array<Pick<Advertisement, 'communities'>>): CommunityAlias[] {
  const used = new Set(advertisements.flatMap((a) => a.communities ?? []));
  return aliases.filter((c) => used.has(c.name));
}

/**
 * The policy with allowedCommunities entries that name aliases replaced by their values: a cluster
 * gets only the aliases it uses, yet an advertisement may still use the value of an allowed alias.
 */
function policyForCluster(policy: TenantPolicy, aliases: CommunityAlias[]): TenantPolicy {
  if (!policy.allowedCommunities) return policy;
  const byName = new Map(aliases.map((a) => [a.name, a.value]));
  return { ...policy, allowedCommunities: policy.allowedCommunities.map((entry) => byName.get(entry) ?? entry) };
}

/**
 * The pool CIDRs of a cluster intent, canonical: what its config gives the cluster to announce.
 * An address range counts as the minimal CIDRs covering it.
 */
export function intentPrefixes(intent: Pick<ClusterIntentInput, 'pools'>): string[] {
  const prefixes = new Set<string>();
  for (const pool of intent.pools ?? []) {
    for (const text of pool.cidrs) {
      try {
        for (const cidr of parseAddressEntry(text).cidrs) prefixes.add(cidr.text);
      } catch (err) {
        if (!(err instanceof GrammarError)) throw err; // validation refuses it before anything is stored
      }
    }
  }
  return [...prefixes].sort();
}

/**
 * A rollback: the objects of an earlier revision's intent (`pinned`), with today's cluster facts
 * and tenant policy (`current`), so that rendering it validates the old objects against today's
 * rules. It may announce only address space the cluster holds in today's intent: a pool CIDR that
 * has since left it may be quarantined, carved into another pool or granted to another tenant.
 */
export function pinnedIntent(pinned: ClusterIntentInput, current: ClusterIntentInput, revision: number): { intent: ClusterIntentInput; problems: Problem[] } {
  const held = new Set(intentPrefixes(current));
  const problems: Problem[] = [];
  for (const pool of pinned.pools ?? []) {
    for (const prefix of intentPrefixes({ pools: [pool] })) {
      if (!held.has(prefix)) {
        problems.push({
          code: 'rollback-address-not-held', path: `pools/${pool.name}/cidrs`,
          message: `revision ${revision} gives the cluster ${prefix} (pool ${pool.name}), which no pool of today's intent gives it`,
          remedy: 'roll back to a later revision, or give the cluster that address space again (a pool that selects it) first',
        });
      }
    }
  }
  return { intent: { ...pinned, cluster: current.cluster, policy: current.policy }, problems };
}
