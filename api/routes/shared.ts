// Schemas and checks several resources share.
import { z } from '@hono/zod-openapi';
import { LabelSelector as DomainLabelSelector, Labels as DomainLabels, type LabelSelector as Selector } from '../../render/policy.ts';
import type { Problem } from '../../render/validate.ts';
import { ApiError, invalidRequest, problemsToFieldErrors } from '../errors.ts';
import { selectedBy } from '../../render/scope.ts';

export const ResourceName = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/,
  'must be a lowercase DNS name: [a-z0-9], inner . and -, at most 63 characters').openapi({ example: 'web' });
// render/'s schemas are named through zod's own metadata, not .openapi(): that exists only on
// schemas made after @hono/zod-openapi extended zod, and import order must not decide it.
export const LabelSelector = DomainLabelSelector.meta({
  id: 'LabelSelector', description: 'Kubernetes label selector (matchLabels, matchExpressions); absent matches everything',
});
export const Labels = DomainLabels.meta({ description: 'Kubernetes labels: [prefix/]name keys, values of at most 63 characters' });
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
  return selectedBy([change.before, change.after].filter((r) => r !== undefined).map((r) => r!.clusterSelector ?? null));
}

/** 409 in-use naming who refers to the object (the tenant's own objects: nothing of another leaks). */
export function refuseInUse(kind: string, name: string, users: Array<{ kind: string; name: string }>): void {
  if (users.length === 0) return;
  const list = users.map((u) => `${u.kind} ${u.name}`).join(', ');
  throw new ApiError(409, 'in-use', 'In use', `${kind} ${name} is used by ${list}; remove it from them (or delete them) first`, {
    extensions: { referencedBy: users },
  });
}
