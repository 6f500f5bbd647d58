// Pool address entries as MetalLB writes them: a CIDR (`192.0.2.0/24`) or an inclusive range of
// addresses (`192.0.2.10-192.0.2.40`, MetalLB's documented form). Both are parsed into one shape
// (family, first and last address as integers) so overlap, family and aggregation checks treat
// them alike, and re-printed canonically. A range is also summarised into the minimal list of
// CIDRs that cover exactly it (what MetalLB's parser does, and what a host frr.conf announces).
import ipaddr from 'ipaddr.js';
import { GrammarError, parseCidr, parseIp, type Family, type ParsedCidr, type ParsedIp } from './grammar.ts';

export interface AddressEntry {
  kind: 'cidr' | 'range';
  family: Family;
  /** Canonical text: `network/length`, or `first-last` with canonical addresses. */
  text: string;
  start: bigint;
  end: bigint;
  /** The minimal CIDRs covering exactly [start, end] (one for a CIDR), lowest first. */
  cidrs: ParsedCidr[];
}

const bitsOf = (family: Family) => (family === 4 ? 32 : 128);

export function ipToBigInt(ip: ParsedIp): bigint {
  return ip.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function bigIntToIp(value: bigint, family: Family): ParsedIp {
  const bytes: number[] = [];
  for (let i = bitsOf(family) / 8 - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  const addr = ipaddr.fromByteArray(bytes);
  const text = family === 4 ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
  return { family, text, bytes };
}

/** The minimal list of CIDRs covering exactly the addresses start..end (inclusive). */
export function summarizeRange(start: bigint, end: bigint, family: Family): ParsedCidr[] {
  const bits = bitsOf(family);
  const out: ParsedCidr[] = [];
  let cursor = start;
  while (cursor <= end) {
    // The largest aligned block that starts at cursor and does not pass end.
    let size = 0;
    while (size < bits) {
      const next = 1n << BigInt(size + 1);
      if (cursor % next !== 0n || cursor + next - 1n > end) break;
      size++;
    }
    const network = bigIntToIp(cursor, family);
    const prefixLength = bits - size;
    out.push({ family, text: `${network.text}/${prefixLength}`, prefixLength, network });
    cursor += 1n << BigInt(size);
  }
  return out;
}

/** Parses one pool entry: a CIDR (host bits refused, see parseCidr) or `first-last`. */
export function parseAddressEntry(text: string): AddressEntry {
  if (typeof text !== 'string') throw new GrammarError('must be a CIDR or an address range');
  const dash = text.indexOf('-');
  if (dash === -1) {
    const cidr = parseCidr(text);
    const start = ipToBigInt(cidr.network);
    const end = start + (1n << BigInt(bitsOf(cidr.family) - cidr.prefixLength)) - 1n;
    return { kind: 'cidr', family: cidr.family, text: cidr.text, start, end, cidrs: [cidr] };
  }
  const first = parseIp(text.slice(0, dash));
  const last = parseIp(text.slice(dash + 1));
  if (first.family !== last.family) throw new GrammarError('is a range whose first and last addresses are of different families');
  const start = ipToBigInt(first);
  const end = ipToBigInt(last);
  if (start > end) throw new GrammarError(`is a range whose first address ${first.text} is after its last address ${last.text}`);
  return { kind: 'range', family: first.family, text: `${first.text}-${last.text}`, start, end, cidrs: summarizeRange(start, end, first.family) };
}

/** The entry, or undefined when it does not parse (validation reports it). */
export function tryAddressEntry(text: string): AddressEntry | undefined {
  try {
    return parseAddressEntry(text);
  } catch (err) {
    if (err instanceof GrammarError) return undefined;
    throw err;
  }
}

/** The widest (shortest) prefix among an entry's covering CIDRs: MetalLB's aggregation bound. */
export function widestPrefix(entry: AddressEntry): number {
  return Math.min(...entry.cidrs.map((c) => c.prefixLength));
}
