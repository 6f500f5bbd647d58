// The MetalLB parity corpus (test/fixtures/metallb-parity/*.yaml, built from MetalLB v0.16.1's own
// tests): loading, and metalfleet's verdict on a case for one MetalLB mode, through the importer and
// renderCluster as the import route will run them.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { importMetallb, type ImportResult } from '../../render/import.ts';
import { renderCluster, type RenderResult } from '../../render/index.ts';
import type { Backend } from '../../render/policy.ts';

export type Verdict = 'accept' | 'refuse' | 'hold';
export const MODES = { native: 'metallb-native', frr: 'metallb-frr', 'frr-k8s': 'metallb-frr-k8s' } as const satisfies Record<string, Backend>;
export type Mode = keyof typeof MODES;

export interface ParityCase {
  id: string;
  upstream: string;
  metallb: Verdict | Record<Mode, Verdict>;
  because?: string;
  /** Reason key (docs/metallb.md) where metalfleet refuses what MetalLB accepts. */
  stricter?: string;
  /** Reason key where metalfleet accepts what MetalLB holds until a referenced object exists. */
  held?: string;
  note?: string;
  objects: Array<Record<string, unknown>>;
  file: string;
}

const DIR = fileURLToPath(new URL('../fixtures/metallb-parity/', import.meta.url));

export function loadCorpus(): ParityCase[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort().flatMap((file) => {
    const doc = parse(readFileSync(`${DIR}${file}`, 'utf8')) as { cases: ParityCase[] };
    return doc.cases.map((c) => ({ ...c, file }));
  });
}

export const metallbVerdict = (c: ParityCase, mode: Mode): Verdict => (typeof c.metallb === 'string' ? c.metallb : c.metallb[mode]);

/** The case's objects as one multi-document stream, the way kubectl prints them. */
export const caseYaml = (c: ParityCase) => c.objects.map((o) => `---\n${stringify(o)}`).join('');

/** Any ASN, any peer address: the corpus tests MetalLB's rules, not a tenant policy. */
export const PERMISSIVE_POLICY = { allowedASNs: [{ from: 1, to: 4294967295 }], allowedPeerCIDRs: ['0.0.0.0/0', '::/0'] };

export interface Outcome {
  imported: ImportResult;
  result?: RenderResult;
  accepted: boolean;
  /** Codes that refused it (import errors or render problems). */
  codes: string[];
}

export function runCase(c: ParityCase, backend: Backend): Outcome {
  const imported = importMetallb(caseYaml(c));
  const errors = imported.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { imported, accepted: false, codes: [...new Set(errors.map((p) => p.code))] };
  const result = renderCluster({
    cluster: { name: 'parity', backend, namespace: 'metallb-system', capabilities: { metallbVersion: '0.16.1', frrVersion: '10.5.3', nodes: imported.nodes } },
    policy: PERMISSIVE_POLICY,
    ...imported.intent,
  });
  return { imported, result, accepted: result.ok, codes: result.ok ? [] : [...new Set(result.problems.map((p) => p.code))] };
}
