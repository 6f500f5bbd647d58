// Import round trip: MetalLB objects → render/import.ts → renderCluster → the rendered MetalLB
// objects equal the input, for every corpus case metalfleet accepts, on every MetalLB backend that
// accepts it. Equal modulo what metalfleet owns or MetalLB reads the same way: the managed-by label,
// the Community object's name, passwords moved into metalfleet's basic-auth Secrets, canonical
// forms (addresses, durations, community values), CRD defaults and the order of name lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommunity, parseDurationMs, parseIp } from '../../render/grammar.ts';
import { bigIntToIp, ipToBigInt } from '../../render/ranges.ts';
import { MANAGED_BY_KEY } from '../../render/policy.ts';
import { loadCorpus, MODES, runCase } from './parity.ts';

type Obj = Record<string, unknown>;
const METALLB_KINDS = new Set(['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile',
  'Community']);
const DEFAULTS: Record<string, unknown> = { autoAssign: true, peerPort: 179 };
const UNSET_ZERO = new Set(['peerASN', 'localASN', 'localPref']);
const SORTED = new Set(['ipAddressPools', 'peers', 'interfaces']);

const attempt = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};

function address(entry: string): string {
  const dash = entry.indexOf('-');
  if (dash !== -1) return entry.split('-').map((p) => attempt(() => parseIp(p.trim()).text) ?? p).join('-');
  const [ip, length] = entry.split('/');
  const parsed = attempt(() => parseIp(ip!));
  if (!parsed) return entry;
  const bits = parsed.family === 4 ? 32 : 128;
  return `${bigIntToIp(ipToBigInt(parsed) & ~((1n << BigInt(bits - Number(length))) - 1n), parsed.family).text}/${length}`;
}

function value(key: string, v: unknown): unknown {
  if (v === undefined || v === null || v === '' || v === false) return undefined;
  if (Array.isArray(v) && v.length === 0) return undefined;
  if (UNSET_ZERO.has(key) && v === 0) return undefined;
  if (DEFAULTS[key] === v) return undefined;
  if (['holdTime', 'keepaliveTime', 'connectTime'].includes(key)) return parseDurationMs(String(v)) / 1000;
  if (['peerAddress', 'sourceAddress', 'routerID'].includes(key)) return attempt(() => parseIp(String(v)).text) ?? v;
  if (key === 'addresses') return (v as string[]).map(address);
  if (key === 'communities' && Array.isArray(v) && typeof v[0] === 'string') return (v as string[]).map((c) => attempt(() => parseCommunity(c).text) ?? c);
  if (key === 'passwordSecret') return (v as Obj).name;
  if (SORTED.has(key)) return [...(v as string[])].sort();
  if (typeof v === 'object' && !Array.isArray(v)) {
    const inner = normalize(v as Obj);
    return Object.keys(inner).length > 0 ? inner : undefined;
  }
  return v;
}

function normalize(spec: Obj): Obj {
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, value(k, v)]).filter(([, v]) => v !== undefined));
}

/** MetalLB objects by kind and name, normalized; the aliases of every Community as one set. */
function view(objects: Obj[]): Obj {
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [(o.metadata as Obj).name, o]));
  const out: Obj = {};
  const aliases: string[] = [];
  for (const o of objects) {
    if (!METALLB_KINDS.has(String(o.kind))) continue;
    const metadata = o.metadata as Obj;
    const spec = { ...((o.spec as Obj | undefined) ?? {}) };
    if (o.kind === 'Community') {
      for (const c of (spec.communities as Obj[] | undefined) ?? []) aliases.push(`${String(c.name)}=${attempt(() => parseCommunity(String(c.value)).text) ?? c.value}`);
      continue;
    }
    // A password metalfleet moved into its own Secret reads back as the password.
    const ref = (spec.passwordSecret as Obj | undefined)?.name;
    const owned = typeof ref === 'string' && ref.endsWith('-bgp-password') ? secrets.get(ref) : undefined;
    if (owned) {
      spec.password = atob(((owned.data as Obj).password as string));
      delete spec.passwordSecret;
    }
    const labels = Object.fromEntries(Object.entries((metadata.labels as Record<string, string> | undefined) ?? {}).filter(([k]) => k !== MANAGED_BY_KEY));
    out[`${String(o.kind)}/${String(metadata.name)}`] = { spec: normalize(spec), ...(o.kind === 'IPAddressPool' && Object.keys(labels).length ? { labels } : {}) };
  }
  out.aliases = aliases.sort();
  return out;
}

test('MetalLB YAML → import → render gives the input back, on every backend that accepts it', (t) => {
  let compared = 0;
  for (const c of loadCorpus()) {
    for (const backend of Object.values(MODES)) {
      const outcome = runCase(c, backend);
      if (!outcome.accepted) continue;
      compared++;
      assert.deepEqual(view(outcome.result!.ok ? (outcome.result!.objects as unknown as Obj[]) : []),
        view(c.objects), `${c.file}#${c.id} on ${backend}`);
    }
  }
  t.diagnostic(`round trip: ${compared} accepted case/backend combinations compared`);
  assert.ok(compared >= 180, `only ${compared} combinations compared`);
});
