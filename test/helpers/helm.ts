// `helm template` for the tests, without a helm binary: the chart's templates go through Go's own
// text/template with Helm's functions (test/helpers/helm-template/main.go, built once per process
// with the machine's Go: Debian's golang-go). Values are merged as Helm merges them: the chart's
// values.yaml, then each override file or object over it (maps merge key by key, anything else
// replaces, null removes the key).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const SOURCE = fileURLToPath(new URL('./helm-template/', import.meta.url));

export type Values = Record<string, unknown>;
export interface KubeObject { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [field: string]: any }
export interface Rendered { source: string; object: KubeObject }

/** Why charts cannot be rendered here (no Go toolchain), or undefined when they can. */
export function helmRenderUnavailable(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  return go.status === 0 ? undefined : 'no Go toolchain to run text/template (apt-get install golang-go)';
}

let binary: string | undefined;
function renderer(): string {
  if (binary) return binary;
  const out = join(mkdtempSync(join(tmpdir(), 'metalfleet-helm-')), 'helm-template');
  // Standard library only: nothing is downloaded (GOPROXY=off), whatever the machine's settings.
  execFileSync('go', ['build', '-o', out, '.'], { cwd: SOURCE, env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  return (binary = out);
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's coalescing of values: `over` onto `base`. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

export function chartDir(name: string): string {
  return fileURLToPath(new URL(`../../deploy/helm/${name}/`, import.meta.url));
}

export function readValues(file: string): Values {
  return (parse(readFileSync(file, 'utf8')) ?? {}) as Values;
}

/**
 * The chart rendered with its values.yaml and `overrides` (files under the chart, e.g.
 * 'ci/full-values.yaml', or objects), in order. Throws what the template engine said on an error
 * (a `required` value missing, a function Helm has that the renderer lacks, a missing key).
 */
export function helmTemplate(chart: string, overrides: Array<string | Values> = [], release = { Name: 'mf', Namespace: 'metalfleet-system' }): Rendered[] {
  const dir = chartDir(chart);
  let values = readValues(join(dir, 'values.yaml'));
  for (const o of overrides) values = mergeValues(values, typeof o === 'string' ? readValues(join(dir, o)) : o);
  const input = JSON.stringify({ chartDir: dir, chart: readValues(join(dir, 'Chart.yaml')), values, release });
  const result = spawnSync(renderer(), [], { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr.trim() || `helm-template exited with ${result.status}`);
  return result.stdout.split(/^---\n/m).filter((d) => d.trim()).map((doc) => {
    const source = /^# Source: (.+)$/m.exec(doc)?.[1] ?? '?';
    const docs = parseAllDocuments(doc);
    for (const d of docs) if (d.errors.length > 0) throw new Error(`${source}: ${d.errors.map((e) => e.message).join('; ')}\n${doc}`);
    const objects = docs.map((d) => d.toJS() as KubeObject).filter(Boolean);
    if (objects.length !== 1) throw new Error(`${source}: expected one object per document, got ${objects.length}`);
    return { source, object: objects[0]! };
  });
}
