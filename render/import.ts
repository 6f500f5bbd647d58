// importMetallb: MetalLB objects as `kubectl get ipaddresspools,bgppeers,bgpadvertisements,
// l2advertisements,bfdprofiles,communities -n metallb-system -o yaml` prints them (a List, or a
// multi-document stream) → the intent objects of the model, plus problems for what cannot be
// expressed. Pure: the caller (the import route) stores the intent through the usual validation.
//
// - Values are converted the way MetalLB reads them: durations to seconds, `0`/`""` as unset,
//   range parts trimmed; a CIDR with host bits becomes its network, with a warning (MetalLB's
//   net.ParseCIDR does the same; metalfleet's own API refuses host bits).
// - Kinds and fields metalfleet does not model are errors (nothing is dropped silently); objects
//   outside the MetalLB namespace are errors (MetalLB's webhooks refuse them).
// - passwordSecret stays a reference: the password is never imported. A referenced Secret present
//   in the stream is checked as MetalLB checks it (type kubernetes.io/basic-auth, key password).
// - Node objects in the stream are returned as the cluster's nodes (MetalLB's node-aware rules).
import { parseAllDocuments } from 'yaml';
import type { ClusterIntentInput, Node } from './model.ts';
import { parseDurationMs, parseIp, type ParsedIp } from './grammar.ts';
import { tryParse, type Problem } from './problems.ts';
import { bigIntToIp, ipToBigInt } from './ranges.ts';

export interface ImportProblem extends Problem {
  /** error: the object cannot be imported as written; warning: imported with the stated change. */
  severity: 'error' | 'warning';
}

type Input<K extends keyof ClusterIntentInput> = NonNullable<ClusterIntentInput[K]>;
export interface ImportedIntent {
  pools: Input<'pools'>;
  peers: Input<'peers'>;
  bfdProfiles: Input<'bfdProfiles'>;
  communities: Input<'communities'>;
  advertisements: Input<'advertisements'>;
}

export interface ImportResult {
  intent: ImportedIntent;
  /** Node objects found in the stream, as cluster nodes. */
  nodes: Node[];
  problems: ImportProblem[];
}

export interface ImportOptions {
  /** The MetalLB namespace; objects elsewhere are refused. Default metallb-system. */
  namespace?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spec fields each kind may carry, as metalfleet models them. */
const FIELDS: Record<string, readonly string[]> = {
  IPAddressPool: ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'],
  BGPPeer: ['myASN', 'peerASN', 'dynamicASN', 'localASN', 'peerAddress', 'interface', 'sourceAddress', 'peerPort', 'holdTime',
    'keepaliveTime', 'connectTime', 'routerID', 'nodeSelectors', 'password', 'passwordSecret', 'bfdProfile', 'enableGracefulRestart',
    'ebgpMultiHop', 'vrf', 'disableMP', 'dualStackAddressFamily'],
  BFDProfile: ['receiveInterval', 'transmitInterval', 'detectMultiplier', 'echoInterval', 'echoMode', 'passiveMode', 'minimumTtl'],
  Community: ['communities'],
  BGPAdvertisement: ['ipAddressPools', 'ipAddressPoolSelectors', 'peers', 'communities', 'localPref', 'aggregationLength',
    'aggregationLengthV6', 'nodeSelectors', 'serviceSelectors'],
  L2Advertisement: ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'serviceSelectors', 'interfaces'],
};
const METALLB_VERSIONS: Record<string, readonly string[]> = { BGPPeer: ['metallb.io/v1beta1', 'metallb.io/v1beta2'] };
const CONTEXT_KINDS = new Set(['Node', 'Secret', 'Namespace']);

const MAX_ALIASES = 100;
const MAX_NESTING = 32;
const MAX_INDENT = 256;

/**
 * Whether the YAML nests deeper than any MetalLB object does, found before the parser sees it: the
 * parser recurses with the nesting, and a few kilobytes of `[[[[…` exhaust the process. Counts flow
 * collections outside quotes and comments, block indentation, and `- - -` sequences on one line.
 */
function nestingProblem(text: string): string | undefined {
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  let lineStart = true;
  let indent = 0;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      comment = false;
      lineStart = true;
      indent = 0;
      dashes = 0;
      continue;
    }
    if (lineStart) {
      if (ch === ' ') {
        if (++indent > MAX_INDENT) return `a line is indented more than ${MAX_INDENT} columns`;
        continue;
      }
      if (ch === '-' && text[i + 1] === ' ') {
        if (++dashes > MAX_NESTING) return `more than ${MAX_NESTING} nested sequences on one line`;
        i++;
        continue;
      }
      lineStart = false;
    }
    if (comment) continue;
    if (quote) {
      if (ch === quote && text[i - 1] !== '\\') quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#') {
      comment = true;
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_NESTING) return `flow collections nested deeper than ${MAX_NESTING} levels`;
    } else if (ch === ']' || ch === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

export function importMetallb(text: string, options: ImportOptions = {}): ImportResult {
  const namespace = options.namespace ?? 'metallb-system';
  const problems: ImportProblem[] = [];
  const problem = (code: string, severity: ImportProblem['severity'], path: string, message: string, remedy: string) =>
    problems.push({ code, severity, path, message, remedy });
  const intent: ImportedIntent = { pools: [], peers: [], bfdProfiles: [], communities: [], advertisements: [] };
  const nodes: Node[] = [];
  const secrets = new Map<string, Obj>();
  const objects: Obj[] = [];

  const nesting = nestingProblem(text);
  if (nesting) {
    problem('import-invalid-yaml', 'error', 'documents', nesting, 'kubectl output nests a few levels deep: import that');
    return { intent, nodes, problems };
  }
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problem('import-invalid-yaml', 'error', `documents/${i}`, doc.errors[0]!.message, 'fix the YAML');
      return;
    }
    let value: unknown;
    try {
      // Aliases expand: a few of them nested (a "billion laughs") would take all memory.
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      return void problem('import-invalid-yaml', 'error', `documents/${i}`, (err as Error).message, 'write the objects without YAML aliases');
    }
    if (value === null || value === undefined) return;
    if (!isObj(value)) return void problem('import-invalid-yaml', 'error', `documents/${i}`,
      'a document is not an object', 'fix the YAML');
    if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) objects.push(...value.items.filter(isObj));
    else objects.push(value);
  });

  for (const object of objects) {
    const kind = typeof object.kind === 'string' ? object.kind : '';
    const metadata = isObj(object.metadata) ? object.metadata : {};
    const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : undefined;
    const at = `${kind || 'object'}/${name ?? '?'}`;
    if (kind === 'Node' && name) nodes.push({ name, labels: labelsOf(metadata) });
    if (kind === 'Secret' && name) secrets.set(name, object);
    if (CONTEXT_KINDS.has(kind)) continue;
    if (!FIELDS[kind] || !(METALLB_VERSIONS[kind] ?? ['metallb.io/v1beta1']).includes(String(object.apiVersion))) {
      problem('import-unknown-kind', 'error',
        at, `${String(object.apiVersion)} ${kind || '(no kind)'} is not a MetalLB kind metalfleet imports`,
        'import only IPAddressPool, BGPPeer, BGPAdvertisement, L2Advertisement, BFDProfile and Community objects');
      continue;
    }
    if (!name) {
      problem('import-missing-name', 'error', at, `a ${kind} has no metadata.name`, 'name every object');
      continue;
    }
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      problem('import-wrong-namespace', 'error', `${at}/metadata/namespace`,
        `${kind} ${name} is in namespace ${String(metadata.namespace)}; MetalLB refuses objects outside ${namespace}`,
        `move it to ${namespace}, or import with that namespace`);
      continue;
    }
    const spec = isObj(object.spec) ? object.spec : {};
    const unknown = Object.keys(spec).filter((f) => !FIELDS[kind]!.includes(f));
    for (const field of unknown) {
      problem('import-unsupported-field', 'error', `${at}/spec/${field}`,
        `metalfleet does not model ${kind}.spec.${field}`,
        'remove the field, or keep this object outside metalfleet');
    }
    const ctx: Ctx = { at, spec, problem };
    switch (kind) {
      case 'IPAddressPool': intent.pools.push(importPool(ctx, name, metadata)); break;
      case 'BGPPeer': intent.peers.push(importPeer(ctx, name, namespace)); break;
      case 'BFDProfile': intent.bfdProfiles.push(compact({ name, ...pick(spec, FIELDS.BFDProfile!) }) as ImportedIntent['bfdProfiles'][number]); break;
      case 'Community': intent.communities.push(...importCommunities(ctx)); break;
      default: intent.advertisements.push(importAdvertisement(ctx, name, kind === 'BGPAdvertisement' ? 'bgp' : 'l2'));
    }
  }
  // Secrets can come after the peers that reference them: check the references at the end.
  for (const peer of intent.peers) checkSecret(peer, secrets, problem);
  return { intent, nodes, problems };
}

interface Ctx {
  at: string;
  spec: Obj;
  problem: (code: string, severity: ImportProblem['severity'], path: string, message: string, remedy: string) => void;
}

const labelsOf = (metadata: Obj): Record<string, string> => (isObj(metadata.labels) ? (metadata.labels as Record<string, string>) : {});

/** Drops undefined fields. */
function compact<T extends Obj>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

function pick(spec: Obj, fields: readonly string[]): Obj {
  return Object.fromEntries(fields.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]]));
}

/** MetalLB reads "" as unset. */
const text = (v: unknown): unknown => (v === '' || v === null ? undefined : v);
/** MetalLB reads 0 as unset for ASNs and localPref. */
const nonZero = (v: unknown): unknown => (v === 0 || v === null ? undefined : v);

/** A pool entry the way MetalLB's ParseCIDR reads it, re-printed canonically where it parses. */
function importAddress(ctx: Ctx, entry: unknown, i: number): unknown {
  if (typeof entry !== 'string') return entry;
  const dash = entry.indexOf('-');
  if (dash !== -1) {
    const [first, last] = [entry.slice(0, dash).trim(), entry.slice(dash + 1).trim()].map((p) => tryParse(() => parseIp(p)));
    return first && last ? `${first.text}-${last.text}` : entry;
  }
  const slash = entry.indexOf('/');
  const address = slash === -1 ? undefined : tryParse(() => parseIp(entry.slice(0, slash)));
  const length = Number(entry.slice(slash + 1));
  if (!address || !/^\d{1,3}$/.test(entry.slice(slash + 1)) || length > address.bytes.length * 8) return entry;
  const network = maskedText(address, length);
  if (network === address.text) return `${network}/${length}`;
  ctx.problem('import-cidr-host-bits', 'warning', `${ctx.at}/spec/addresses/${i}`,
    `${entry} has host bits set; MetalLB reads it as ${network}/${length}, and so does the import`, `write ${network}/${length}`);
  return `${network}/${length}`;
}

function maskedText(ip: ParsedIp, length: number): string {
  const bits = ip.family === 4 ? 32 : 128;
  const hostBits = (1n << BigInt(bits - length)) - 1n;
  return bigIntToIp(ipToBigInt(ip) & ~hostBits, ip.family).text;
}

function importPool(ctx: Ctx, name: string, metadata: Obj): ImportedIntent['pools'][number] {
  const { spec } = ctx;
  const addresses = Array.isArray(spec.addresses) ? spec.addresses.map((a, i) => importAddress(ctx, a, i)) : [];
  const allocation = isObj(spec.serviceAllocation) ? spec.serviceAllocation : undefined;
  const labels = Object.fromEntries(Object.entries(labelsOf(metadata)).filter(([k]) => k !== 'app.kubernetes.io/managed-by'));
  return compact({
    name,
    cidrs: addresses as string[],
    labels: Object.keys(labels).length > 0 ? labels : undefined,
    autoAssign: spec.autoAssign as boolean | undefined,
    avoidBuggyIPs: spec.avoidBuggyIPs as boolean | undefined,
    serviceAllocation: allocation && compact(pick(allocation, ['priority', 'namespaces', 'namespaceSelectors',
      'serviceSelectors'])),
  });
}

function seconds(ctx: Ctx, field: string): number | undefined {
  const value = ctx.spec[field];
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' ? tryParse(() => parseDurationMs(value)) : undefined;
  if (ms === undefined || ms % 1000 !== 0) {
    ctx.problem('import-invalid-duration', 'error', `${ctx.at}/spec/${field}`,
      `${JSON.stringify(value)} is not a whole number of seconds`,
      'write a Go duration in whole seconds, e.g. "90s"');
    return undefined;
  }
  return ms / 1000;
}

function importPeer(ctx: Ctx, name: string, namespace: string): ImportedIntent['peers'][number] {
  const { spec } = ctx;
  if (spec.disableMP === true) {
    ctx.problem('import-unsupported-field', 'error', `${ctx.at}/spec/disableMP`,
      'disableMP is deprecated and has no effect since MetalLB 0.15; metalfleet does not model it',
      'remove disableMP (dualStackAddressFamily is its replacement)');
  }
  const secret = isObj(spec.passwordSecret) ? spec.passwordSecret : undefined;
  const secretName = typeof secret?.name === 'string' && secret.name !== '' ? secret.name : undefined;
  if (secretName && secret!.namespace !== undefined && secret!.namespace !== '' && secret!.namespace !== namespace) {
    ctx.problem('import-secret-namespace', 'warning', `${ctx.at}/spec/passwordSecret/namespace`,
      `MetalLB looks passwordSecret up in its own namespace ${namespace}, not ${String(secret!.namespace)}`, `keep the Secret in ${namespace}`);
  }
  return compact({
    name,
    myASN: nonZero(spec.myASN) as number,
    peerASN: nonZero(spec.peerASN) as number | undefined,
    dynamicASN: text(spec.dynamicASN) as 'internal' | 'external' | undefined,
    localASN: nonZero(spec.localASN) as number | undefined,
    peerAddress: text(spec.peerAddress) as string | undefined,
    interface: text(spec.interface) as string | undefined,
    sourceAddress: text(spec.sourceAddress) as string | undefined,
    peerPort: nonZero(spec.peerPort) as number | undefined,
    routerID: text(spec.routerID) as string | undefined,
    holdTime: seconds(ctx, 'holdTime'),
    keepaliveTime: seconds(ctx, 'keepaliveTime'),
    connectTime: seconds(ctx, 'connectTime'),
    ebgpMultiHop: spec.ebgpMultiHop as boolean | undefined,
    bfdProfile: text(spec.bfdProfile) as string | undefined,
    vrf: text(spec.vrf) as string | undefined,
    password: text(spec.password) as string | undefined,
    passwordSecret: secretName,
    enableGracefulRestart: spec.enableGracefulRestart as boolean | undefined,
    dualStackAddressFamily: spec.dualStackAddressFamily as boolean | undefined,
    nodeSelectors: spec.nodeSelectors as never,
  });
}

/** MetalLB's passwordFromSecretForPeer, where the Secret is in the stream; a reference otherwise. */
function checkSecret(peer: ImportedIntent['peers'][number], secrets: Map<string, Obj>, problem: Ctx['problem']) {
  if (peer.passwordSecret === undefined) return;
  const at = `BGPPeer/${peer.name}/spec/passwordSecret`;
  const secret = secrets.get(peer.passwordSecret);
  problem('import-secret-reference', 'warning',
    at, `passwordSecret stays a reference to Secret ${peer.passwordSecret}: the password is not imported`,
    'keep the Secret (kubernetes.io/basic-auth, key password) in the cluster; host FRR clusters need password instead');
  if (!secret) return;
  const data = { ...(isObj(secret.data) ? secret.data : {}), ...(isObj(secret.stringData) ? secret.stringData : {}) };
  if (secret.type !== 'kubernetes.io/basic-auth') {
    problem('import-secret-invalid', 'error',
      at, `Secret ${peer.passwordSecret} has type ${String(secret.type ?? 'Opaque')}; MetalLB needs kubernetes.io/basic-auth`,
      'recreate the Secret with type kubernetes.io/basic-auth');
  } else if (data.password === undefined) {
    problem('import-secret-invalid', 'error', at, `Secret ${peer.passwordSecret} has no password key`,
      'add the key password to the Secret');
  }
}

function importCommunities(ctx: Ctx): ImportedIntent['communities'] {
  const list = Array.isArray(ctx.spec.communities) ? ctx.spec.communities.filter(isObj) : [];
  return list.map((c) => ({ name: c.name as string, value: c.value as string }));
}

function importAdvertisement(ctx: Ctx, name: string, type: 'bgp' | 'l2'): ImportedIntent['advertisements'][number] {
  const { spec } = ctx;
  return compact({
    name,
    type,
    ipAddressPools: spec.ipAddressPools as string[] | undefined,
    ipAddressPoolSelectors: spec.ipAddressPoolSelectors as never,
    peers: spec.peers as string[] | undefined,
    communities: spec.communities as string[] | undefined,
    localPref: nonZero(spec.localPref) as number | undefined,
    aggregationLength: spec.aggregationLength as number | undefined,
    aggregationLengthV6: spec.aggregationLengthV6 as number | undefined,
    nodeSelectors: spec.nodeSelectors as never,
    serviceSelectors: spec.serviceSelectors as never,
    interfaces: spec.interfaces as string[] | undefined,
  });
}
