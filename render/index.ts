// The render core's front door: intent in, either problems or one deterministic config out.
// Pure and runtime-neutral (Node and Workers): no I/O, no clock, no randomness.
import { toYaml } from './yaml.ts';
import { ClusterIntent, type ClusterIntentInput } from './model.ts';
import type { Backend } from './policy.ts';
import { renderFrrConf } from './frrconf.ts';
import { renderBirdConf } from './bird.ts';
import { renderGobgpdToml } from './gobgp.ts';
import { renderMetallbObjects, type KubeObject } from './metallb.ts';
import { validateIntent, type Problem } from './validate.ts';
import { sha256Hex } from './hash.ts';

export type RenderResult =
  | { ok: true; backend: Backend; content: string; sha256: string; objects?: KubeObject[] }
  | { ok: false; backend: Backend; problems: Problem[] };

export { sha256Hex } from './hash.ts';

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

/** The backends whose config is one file for a daemon on the host, and their renderers. */
const HOST_RENDERERS: Partial<Record<Backend, (intent: ClusterIntent) => string>> = {
  frr: renderFrrConf, bird: renderBirdConf, gobgp: renderGobgpdToml,
};

/** The file name of a host backend's config (what an agent writes), or undefined for Kubernetes backends. */
export const HOST_CONFIG_FILES: Partial<Record<Backend, string>> = { frr: 'frr.conf', bird: 'bird.conf', gobgp: 'gobgpd.toml' };

/** Validates the intent for its cluster's backend and renders it. */
export function renderCluster(input: ClusterIntentInput): RenderResult {
  const parsed = ClusterIntent.safeParse(input);
  const backend = (input as { cluster?: { backend?: Backend } }).cluster?.backend ?? 'frr';
  if (!parsed.success) return { ok: false, backend, problems: shapeProblems(parsed.error) };
  const intent = parsed.data;
  const problems = validateIntent(intent);
  if (problems.length > 0) return { ok: false, backend: intent.cluster.backend, problems };
  const host = HOST_RENDERERS[intent.cluster.backend];
  if (host) {
    const content = host(intent);
    return { ok: true, backend: intent.cluster.backend, content, sha256: sha256Hex(content) };
  }
  const objects = renderMetallbObjects(intent);
  const content = objectsToYaml(objects);
  return { ok: true, backend: intent.cluster.backend, content, sha256: sha256Hex(content), objects };
}

export { validateIntent, type Problem } from './validate.ts';
export { renderFrrConf } from './frrconf.ts';
export { renderBirdConf } from './bird.ts';
export { renderGobgpdToml } from './gobgp.ts';
export { renderMetallbObjects, type KubeObject, MANAGED_BY_LABEL, MANAGED_BY, KIND_ORDER } from './metallb.ts';
export { ClusterIntent, type ClusterIntentInput } from './model.ts';
export { importMetallb, type ImportResult, type ImportProblem, type ImportedIntent, type ImportOptions } from './import.ts';
export { CAPABILITIES, type Feature, type BackendCapabilities } from './capabilities.ts';
