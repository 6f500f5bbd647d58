// The shared vocabulary of the domain: backends, Kubernetes-shaped label selectors and the
// per-tenant peer policy. `db/` stores these shapes; `api/` validates requests with them;
// the renderers read them. Pure: zod only.
import { z } from 'zod';

/** MetalLB's three modes, and the host daemons metalfleet renders a config file for. */
export const BACKENDS = ['metallb-native', 'metallb-frr', 'metallb-frr-k8s', 'frr', 'bird', 'gobgp'] as const;
export const Backend = z.enum(BACKENDS);
export type Backend = z.infer<typeof Backend>;

// Kubernetes label grammar, as k8s.io/apimachinery validates it (IsQualifiedName, IsValidLabelValue):
// a key is an optional prefix, a DNS-1123 subdomain of at most 253 characters whose dot-separated
// parts start and end alphanumeric, then `/` and a name of at most 63 characters; a value is empty
// or at most 63 characters. Names and values start and end alphanumeric, with [-_.] inside.
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
/** A DNS-1123 subdomain (at most 253 characters): label prefixes, Secret names. */
export const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
export const isDnsSubdomain = (s: string) => s.length <= 253 && DNS_SUBDOMAIN.test(s);
/** A DNS-1123 label (at most 63 characters): Kubernetes namespace names. */
export const isDnsLabel = (s: string) => s.length <= 63 && new RegExp(`^${DNS_LABEL}$`).test(s);
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return LABEL_NAME.test(key);
  return isDnsSubdomain(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

export const LabelKey = z.string().refine(isLabelKey,
  'must be a Kubernetes label key: [prefix/]name, prefix a DNS subdomain of at most 253 characters, name of at most 63 characters [A-Za-z0-9._-]');
export const LabelValue = z.string().regex(LABEL_VALUE, 'must be a Kubernetes label value: at most 63 characters [A-Za-z0-9._-]');
export const Labels = z.record(LabelKey, LabelValue);
export type Labels = z.infer<typeof Labels>;

export const LabelSelectorRequirement = z.strictObject({
  key: LabelKey,
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(LabelValue).optional(),
}).superRefine((req, ctx) => {
  const needsValues = req.operator === 'In' || req.operator === 'NotIn';
  const n = req.values?.length ?? 0;
  if (needsValues && n === 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} needs at least one value` });
  if (!needsValues && n > 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} takes no values` });
});

export const LabelSelector = z.strictObject({
  matchLabels: Labels.optional(),
  matchExpressions: z.array(LabelSelectorRequirement).optional(),
});
export type LabelSelector = z.infer<typeof LabelSelector>;

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In': if (!has || !req.values!.includes(value!)) return false; break;
      case 'NotIn': if (has && req.values!.includes(value!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
    }
  }
  return true;
}

/** The label every rendered Kubernetes object carries; metalfleet's own (pools may not set it). */
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';

export const ASN_MAX = 4294967295;
export const Asn = z.number().int().min(1).max(ASN_MAX);

export const AsnRange = z.strictObject({ from: Asn, to: Asn })
  .refine((r) => r.from <= r.to, { message: 'from must not be greater than to', path: ['to'] });

/**
 * What a platform admin lets a tenant do. A tenant without a stored policy gets DEFAULT_POLICY:
 * no ASNs and no peer addresses are allowed until an admin grants them (deny by default), while
 * backends, communities and the pool count are unrestricted.
 */
export const TenantPolicy = z.strictObject({
  allowedASNs: z.array(AsnRange).default([]),
  allowedPeerCIDRs: z.array(z.union([z.cidrv4(), z.cidrv6()])).default([]),
  requireBFD: z.boolean().default(false),
  requirePassword: z.boolean().default(false),
  allowLocalPeering: z.boolean().default(false),
  /** null: any community; a list: only these values or aliases. */
  allowedCommunities: z.array(z.string().min(1).max(64)).nullable().default(null),
  /** null: no limit. */
  maxPools: z.number().int().min(0).nullable().default(null),
  allowedBackends: z.array(Backend).default([...BACKENDS]),
});
export type TenantPolicy = z.infer<typeof TenantPolicy>;
export const DEFAULT_POLICY: TenantPolicy = TenantPolicy.parse({});
