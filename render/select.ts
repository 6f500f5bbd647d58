// Which of a tenant's objects a cluster gets: pools, peers and advertisements by their cluster
// selectors (Kubernetes semantics; none = every cluster of the tenant); BFD profiles and
// community aliases always (peers and advertisements refer to them by name). Pure.
import type { Advertisement, BfdProfile, Capabilities, ClusterIntentInput, CommunityAlias, Peer, Pool } from './model.ts';
import { selectorMatches, type Backend, type LabelSelector, type Labels, type TenantPolicy } from './policy.ts';

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
}

const strip = <T extends { clusterSelector?: unknown }>({ clusterSelector: _s, ...rest }: T) => rest;

export function clusterIntent(objects: TenantObjects, cluster: ClusterRef): ClusterIntentInput {
  const selected = <T extends { clusterSelector?: LabelSelector | null }>(items: T[]) =>
    items.filter((i) => selectorMatches(i.clusterSelector ?? null, cluster.labels)).map(strip);
  return {
    cluster: { name: cluster.name, backend: cluster.backend, namespace: cluster.namespace, capabilities: cluster.capabilities },
    policy: objects.policy,
    pools: selected(objects.pools),
    peers: selected(objects.peers),
    bfdProfiles: objects.bfdProfiles,
    communities: objects.communities,
    advertisements: selected(objects.advertisements),
  };
}
