// The render core's front door: intent in, either problems or one deterministic config out.
// Pure and runtime-neutral (Node and Workers): no I/O, no clock, no randomness.
// node:crypto: Node, and Workers under the nodejs_compat flag (wrangler.toml). A rendered host
// config can run to megabytes; the native hash is an order of magnitude faster than a JS one.
import * as nodeCrypto from 'node:crypto';
import { toYaml } from './yaml.ts';
import { ClusterIntent, type ClusterIntentInput } from './model.ts';
import type { Backend } from './policy.ts';
import { renderFrrConf } from './frrconf.ts';
import { renderMetallbObjects, type KubeObject } from './metallb.ts';
import { validateIntent, type Problem } from './validate.ts';

export type RenderResult =
  | { ok: true; backend: Backend; content: string; sha256: string; objects?: KubeObject[] }
  | { ok: false; backend: Backend; problems: Problem[] };

// The one-shot hash (Node ≥ 20.12) skips a Hash object per call: agents' assertions are hashed
// on every request. Where it is missing (some Workers runtimes) the streaming API does the same.
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function sha256Hex(content: string): string {
  return oneShotHash ? oneShotHash('sha256', content, 'hex') : nodeCrypto.createHash('sha256').update(content, 'utf8').digest('hex');
}

/** Kubernetes objects as one multi-document YAML stream, in apply order. */
export function objectsToYaml(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${toYaml(o as unknown as Record<string, unknown>)}`).join('');
}

/** Shape errors of an intent (zod), as problems. */
function shapeProblems(error: import('zod').ZodError): Problem[] {
  return error.issues.map((issue) => ({
    code: 'invalid-intent',
    path: issue.path.join('/'),
    message: issue.message,
    remedy: 'fix the field',
  }));
}

/** Validates the intent for its cluster's backend and renders it. */
export function renderCluster(input: ClusterIntentInput): RenderResult {
  const parsed = ClusterIntent.safeParse(input);
  const backend = (input as { cluster?: { backend?: Backend } }).cluster?.backend ?? 'frr';
  if (!parsed.success) return { ok: false, backend, problems: shapeProblems(parsed.error) };
  const intent = parsed.data;
  const problems = validateIntent(intent);
  if (problems.length > 0) return { ok: false, backend: intent.cluster.backend, problems };
  if (intent.cluster.backend === 'frr') {
    const content = renderFrrConf(intent);
    return { ok: true, backend: 'frr', content, sha256: sha256Hex(content) };
  }
  const objects = renderMetallbObjects(intent);
  const content = objectsToYaml(objects);
  return { ok: true, backend: intent.cluster.backend, content, sha256: sha256Hex(content), objects };
}

export { validateIntent, type Problem } from './validate.ts';
export { renderFrrConf } from './frrconf.ts';
export { renderMetallbObjects, type KubeObject, MANAGED_BY_LABEL, MANAGED_BY, KIND_ORDER } from './metallb.ts';
export { ClusterIntent, type ClusterIntentInput } from './model.ts';
