// The strict grammar of everything that can reach a rendered line. Values are parsed and
// re-printed in canonical form; free text is limited to identifier characters. A newline, a
// space or a control character can never pass, so no value can inject an FRR or YAML line.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

/** Parsed values are shared (memoized below): read-only. */
export interface ParsedIp {
  readonly family: Family;
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  readonly text: string;
  readonly bytes: readonly number[];
}

export interface ParsedCidr {
  readonly family: Family;
  /** Canonical `network/length`. */
  readonly text: string;
  readonly prefixLength: number;
  readonly network: ParsedIp;
}

// A fan-out validates the same pools and peers once per cluster (10,000 times for 10,000 clusters):
// parsing their addresses was a tenth of the write. Parsing is pure, so each text's result is kept
// (frozen); the maps are emptied when they grow past a bound. Refusals are not kept.
const MEMO_LIMIT = 8192;
const ipMemo = new Map<string, ParsedIp>();
const cidrMemo = new Map<string, ParsedCidr>();
function remember<T extends object>(memo: Map<string, T>, text: string, value: T): T {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, Object.freeze(value));
  return value;
}

export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** Parses an IPv4 (four decimal parts only) or IPv6 address; zones and odd forms are refused. */
export function parseIp(text: string): ParsedIp {
  return ipMemo.get(text) ?? remember(ipMemo, text, parseIpText(text));
}

function parseIpText(text: string): ParsedIp {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) throw new GrammarError('must be an IP address');
  if (text.includes('%')) throw new GrammarError('must be an IP address without a zone (%)');
  if (!text.includes(':') && ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const addr = ipaddr.IPv4.parse(text);
    if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) throw new GrammarError('must be an IPv4 address without leading zeros');
    return { family: 4, text: addr.toString(), bytes: Object.freeze(addr.toByteArray()) };
  }
  if (/^[0-9A-Fa-f:.]+$/.test(text) && ipaddr.IPv6.isValid(text)) {
    const addr = ipaddr.IPv6.parse(text);
    // ::ffff:a.b.c.d is IPv4 to Go (MetalLB reads ::ffff:c633:6400/120 as 198.51.100.0/24) but IPv6
    // to PostgreSQL's exclusion constraints: it would let one tenant's pool cover another's IPv4.
    if (addr.isIPv4MappedAddress()) throw new GrammarError('must not be an IPv4-mapped IPv6 address (::ffff:a.b.c.d): use the IPv4 address');
    return { family: 6, text: addr.toRFC5952String(), bytes: Object.freeze(addr.toByteArray()) };
  }
  throw new GrammarError('must be an IPv4 or IPv6 address');
}

/** Parses `network/length`. Host bits must be zero, as PostgreSQL's cidr type requires. */
export function parseCidr(text: string): ParsedCidr {
  return cidrMemo.get(text) ?? remember(cidrMemo, text, parseCidrText(text));
}

function parseCidrText(text: string): ParsedCidr {
  if (typeof text !== 'string') throw new GrammarError('must be a CIDR');
  const slash = text.indexOf('/');
  if (slash === -1) throw new GrammarError('must be a CIDR (address/prefix-length)');
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText)) throw new GrammarError('must be a CIDR with a decimal prefix length');
  const address = parseIp(text.slice(0, slash));
  const prefixLength = Number(lengthText);
  const bits = address.family === 4 ? 32 : 128;
  if (prefixLength > bits) throw new GrammarError(`prefix length must be at most ${bits}`);
  const network = maskBytes(address.bytes, prefixLength);
  const networkIp = ipFromBytes(network);
  if (networkIp.text !== address.text) {
    throw new GrammarError(`has host bits set: the network is ${networkIp.text}/${prefixLength}`);
  }
  return { family: address.family, text: `${networkIp.text}/${prefixLength}`, prefixLength, network: networkIp };
}

function maskBytes(bytes: readonly number[], prefixLength: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
}

function ipFromBytes(bytes: number[]): ParsedIp {
  const addr = ipaddr.fromByteArray(bytes);
  const family: Family = bytes.length === 4 ? 4 : 6;
  const text = family === 4 ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
  return { family, text, bytes };
}

/** True when `inner` lies within `outer` (same family). */
export function cidrContains(outer: ParsedCidr, inner: ParsedCidr | ParsedIp): boolean {
  if (outer.family !== inner.family) return false;
  const innerLength = 'prefixLength' in inner ? inner.prefixLength : inner.family === 4 ? 32 : 128;
  if (innerLength < outer.prefixLength) return false;
  const innerBytes = 'prefixLength' in inner ? inner.network.bytes : inner.bytes;
  const masked = maskBytes(innerBytes, outer.prefixLength);
  return masked.every((b, i) => b === outer.network.bytes[i]);
}

/** First and last address of a CIDR as integers (IPv4 and IPv6 alike). */
export function cidrRange(cidr: ParsedCidr): { start: bigint; end: bigint } {
  const start = cidr.network.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return { start, end: start + (1n << BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefixLength)) - 1n };
}

/** A string that sorts CIDRs by family, then address, then prefix length. */
export function cidrSortKey(cidr: ParsedCidr): string {
  return `${cidr.family}${cidr.network.bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}${String(cidr.prefixLength).padStart(3, '0')}`;
}

export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The IPv4 loopback block, where local peering lives. */
export const LOOPBACK_V4 = parseCidr('127.0.0.0/8');

/** A community value: standard `A:B` (16-bit parts) or large `large:A:B:C` (32-bit parts). */
export type Community = { kind: 'standard'; text: string } | { kind: 'large'; text: string; frrText: string };

const UINT = /^(0|[1-9]\d{0,9})$/;

export function parseCommunity(text: string): Community {
  if (typeof text !== 'string') throw new GrammarError('must be a community');
  const parts = text.split(':');
  if (parts[0] === 'large') {
    const nums = parts.slice(1);
    if (nums.length !== 3 || !nums.every((p) => UINT.test(p) && Number(p) <= 4294967295)) {
      throw new GrammarError('must be a large community large:A:B:C with 32-bit decimal parts');
    }
    const canonical = nums.map(Number).join(':');
    return { kind: 'large', text: `large:${canonical}`, frrText: canonical };
  }
  if (parts.length !== 2 || !parts.every((p) => UINT.test(p) && Number(p) <= 65535)) {
    throw new GrammarError('must be a community A:B with 16-bit decimal parts, or large:A:B:C');
  }
  return { kind: 'standard', text: parts.map(Number).join(':') };
}

export function isCommunityValue(text: string): boolean {
  try {
    parseCommunity(text);
    return true;
  } catch {
    return false;
  }
}

/** Names of metalfleet resources (and of the Kubernetes objects rendered from them). */
export const RESOURCE_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
/** Identifiers that land in FRR lines: VRF, BFD profile, node and host names. */
export const IDENTIFIER = /^[A-Za-z0-9._-]{1,63}$/;
/** Linux interface names: at most 15 characters (IFNAMSIZ). */
export const INTERFACE_NAME = /^[A-Za-z0-9._-]{1,15}$/;
/** TCP-MD5 password: one printable ASCII token; Linux keys are at most 80 bytes. */
export const PASSWORD = /^[\x21-\x7e]{1,80}$/;

const DURATION_UNITS: Record<string, number> = { h: 3600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };

/** Parses a Go duration ("90s", "1m30s", "500ms") into milliseconds. */
export function parseDurationMs(text: string): number {
  if (typeof text !== 'string' || !/^(\d+(\.\d+)?(h|ms|m|s|us|µs|ns))+$/.test(text)) {
    throw new GrammarError('must be a duration such as "90s" or "1m30s"');
  }
  let total = 0;
  for (const [, value, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(value) * DURATION_UNITS[unit!]!;
  return total;
}

/** Whole seconds printed as Go's time.Duration does ("1m30s", "3s", "1h0m0s"): what Kubernetes shows. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** FRR version text ("8.4.4", "9.1", "10.0.1-dev") as comparable numbers, or undefined. */
export function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = text ? /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function versionAtLeast(version: [number, number, number], min: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== min[i]!) return version[i]! > min[i]!;
  }
  return true;
}
