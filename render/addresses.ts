// Address allocation: the first free aligned blocks of a given size inside a tenant's grants.
// Pure arithmetic over parsed CIDRs (BigInt, so IPv4 and IPv6 alike); the database's exclusion
// constraint still has the last word when two allocations race.
import ipaddr from 'ipaddr.js';
import { cidrRange as range, parseCidr, type Family } from './grammar.ts';

const bitsOf = (family: Family) => (family === 4 ? 32 : 128);

function cidrText(start: bigint, family: Family, prefixLength: number): string {
  const bytes: number[] = [];
  for (let i = bitsOf(family) / 8 - 1; i >= 0; i--) bytes.push(Number((start >> BigInt(i * 8)) & 0xffn));
  const addr = ipaddr.fromByteArray(bytes);
  return `${family === 4 ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String()}/${prefixLength}`;
}

export interface AllocationRequest {
  family: Family;
  prefixLength: number;
  count: number;
  /** The tenant's grants (any family; others are ignored). */
  grants: string[];
  /** CIDRs already allocated (any family). */
  used: string[];
}

/** The first `count` free blocks, lowest first; undefined if the grants cannot hold them. */
export function firstFreeBlocks(req: AllocationRequest): string[] | undefined {
  const size = 1n << BigInt(bitsOf(req.family) - req.prefixLength);
  const grants = req.grants.map(parseCidr).filter((g) => g.family === req.family && g.prefixLength <= req.prefixLength)
    .map(range).sort((a, b) => (a.start < b.start ? -1 : 1));
  const used = req.used.map(parseCidr).filter((u) => u.family === req.family).map(range);
  const found: string[] = [];
  for (const grant of grants) {
    let cursor = grant.start;
    while (found.length < req.count) {
      cursor = ((cursor + size - 1n) / size) * size; // align up
      const end = cursor + size - 1n;
      if (end > grant.end) break;
      const clash = used.find((u) => u.start <= end && u.end >= cursor);
      if (clash) {
        cursor = clash.end + 1n;
        continue;
      }
      found.push(cidrText(cursor, req.family, req.prefixLength));
      used.push({ start: cursor, end });
      cursor = end + 1n;
    }
    if (found.length === req.count) return found;
  }
  return undefined;
}
