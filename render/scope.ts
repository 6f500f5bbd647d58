// Which of a tenant's clusters a change can affect, as data: every cluster, some by id, or those
// some label selectors select. Data, not a predicate, so that the database can be asked for just
// those clusters (db/queries/clusters.ts listClustersInScope prefilters with it) and a write in a
// tenant of 10,000 clusters loads and renders the one it touches. inScope is the exact answer; the
// database's prefilter may only return more, never fewer. Pure.
import { selectorMatches, type LabelSelector, type Labels } from './policy.ts';

export interface ClusterScope {
  all?: boolean;
  ids?: string[];
  /** Non-empty selectors (an absent or empty one selects every cluster: `all`). */
  selectors?: LabelSelector[];
}

export const EVERY_CLUSTER: ClusterScope = { all: true };
export const NO_CLUSTER: ClusterScope = {};

export const clusterById = (id: string): ClusterScope => ({ ids: [id] });

/** The clusters that objects with these selectors select (null or {}: every cluster). */
export function selectedBy(selectors: Array<LabelSelector | null | undefined>): ClusterScope {
  const real = selectors.filter((s): s is LabelSelector => s != null);
  if (real.length < selectors.length || real.some(isEmptySelector)) return EVERY_CLUSTER;
  return { selectors: real };
}

export function unionOf(scopes: ClusterScope[]): ClusterScope {
  if (scopes.some((s) => s.all)) return EVERY_CLUSTER;
  return { ids: [...new Set(scopes.flatMap((s) => s.ids ?? []))], selectors: scopes.flatMap((s) => s.selectors ?? []) };
}

export function inScope(scope: ClusterScope, cluster: { id: string; labels: Labels }): boolean {
  return Boolean(scope.all) || (scope.ids ?? []).includes(cluster.id)
    || (scope.selectors ?? []).some((s) => selectorMatches(s, cluster.labels));
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}
