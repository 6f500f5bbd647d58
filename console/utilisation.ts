// How much of each grant a tenant's pools use: the addresses of the pool entries inside the grant
// over the grant's size. Pure (over what the API lists); IPv4 and IPv6 alike, in bigints.
import { tryAddressEntry } from '../render/ranges.ts';

export interface GrantUse {
  cidr: string;
  family: 4 | 6;
  /** Addresses the pools use inside the grant. */
  used: bigint;
  size: bigint;
  /** 0..1, for the bar. */
  fraction: number;
  /** The pools that take space from the grant. */
  pools: string[];
}

export function grantUtilisation(grants: Array<{ cidr: string }>, pools: Array<{ name: string; cidrs: string[] }>): GrantUse[] {
  return grants.flatMap((grant) => {
    const g = tryAddressEntry(grant.cidr);
    if (!g) return [];
    let used = 0n;
    const users = new Set<string>();
    for (const pool of pools) {
      for (const text of pool.cidrs) {
        const entry = tryAddressEntry(text);
        if (!entry || entry.family !== g.family) continue;
        const start = entry.start > g.start ? entry.start : g.start;
        const end = entry.end < g.end ? entry.end : g.end;
        if (start > end) continue;
        used += end - start + 1n;
        users.add(pool.name);
      }
    }
    const size = g.end - g.start + 1n;
    // Ten-thousandths keep the bigint division exact enough for a bar and a percentage.
    const fraction = Number((used * 10_000n) / size) / 10_000;
    return [{ cidr: g.text, family: g.family, used, size, fraction, pools: [...users].sort() }];
  });
}

/** "12.5 %", "< 0.01 %" for a sliver of an IPv6 grant, "0 %". */
export function percent(use: Pick<GrantUse, 'used' | 'fraction'>): string {
  if (use.used === 0n) return '0 %';
  if (use.fraction < 0.0001) return '< 0.01 %';
  return `${(use.fraction * 100).toFixed(use.fraction < 0.1 ? 2 : 1)} %`;
}

/** An address count as people read it: exact up to 2^32, a power of two (or about one) above. */
export function addresses(n: bigint): string {
  if (n <= 1n << 32n) return n.toLocaleString('en');
  const bits = n.toString(2).length - 1;
  return n === 1n << BigInt(bits) ? `2^${bits}` : `≈2^${bits}`;
}
