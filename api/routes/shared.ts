// Schemas and checks several resources share.
import { z } from '@hono/zod-openapi';
import { LabelSelector as DomainLabelSelector, selectorMatches, type LabelSelector as Selector } from '../../render/policy.ts';
import type { ClusterRecord } from '../../db/queries/clusters.ts';
import type { Problem } from '../../render/validate.ts';
import { invalidRequest, problemsToFieldErrors } from '../errors.ts';

export const ResourceName = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/,
  'must be a lowercase DNS name: [a-z0-9], inner . and -, at most 63 characters').openapi({ example: 'web' });
export const LabelSelector = DomainLabelSelector.openapi('LabelSelector', {
  description: 'Kubernetes label selector (matchLabels, matchExpressions); absent matches everything',
});
export const Timestamp = z.string().openapi({ format: 'date-time' });

/** Throws 422 with one field error per problem (policy-violation when the policy refuses). */
export function refuse(problems: Problem[]): void {
  if (problems.length > 0) throw invalidRequest(problemsToFieldErrors(problems));
}

/** Drops undefined fields (the stored form carries only what is set). */
export function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** An object with a cluster selector affects the clusters it selected before and after a change. */
export function affectedBySelectors(change: { before?: { clusterSelector?: Selector }; after?: { clusterSelector?: Selector } }) {
  const selectors = [change.before, change.after].filter((r) => r !== undefined).map((r) => r!.clusterSelector ?? null);
  return (cluster: ClusterRecord) => selectors.some((s) => selectorMatches(s, cluster.labels));
}
