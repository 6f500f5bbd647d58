// Turning what routers say into session reports. Pure parsers, one per source:
// - host FRR and MetalLB FRR mode: `show bgp vrf all neighbors json` and `show bfd peers json`;
// - frr-k8s: BGPSessionState objects (status: node, peer, vrf, bgpStatus, bfdStatus);
// - MetalLB native mode: the speaker's `metallb_bgp_session_up{peer="IP:PORT"}` metric;
// - MetalLB ConfigurationState: a configuration MetalLB rejected is an apply error.
// Field names: FRR bgpd/bgp_vty.c and bfdd (real 8.4.4 output in test/fixtures/frr-8.4.4).
import type { SessionReport } from './client.ts';

type Json = Record<string, unknown>;

function isNeighbor(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && 'bgpState' in value;
}

/**
 * `show bgp vrf all neighbors json` is keyed by VRF and then neighbor; `show bgp neighbors json`
 * (no vrf) by neighbor. Both are accepted. BFD state comes from `peerBfdInfo`, or from
 * `show bfd peers json` when given (lowercase there, as FRR prints it).
 */
export function sessionsFromFrr(node: string, neighborsJson: unknown, bfdPeersJson?: unknown): SessionReport[] {
  const bfd = new Map<string, string>();
  if (Array.isArray(bfdPeersJson)) {
    for (const p of bfdPeersJson as Json[]) {
      if (typeof p.peer === 'string' && typeof p.status === 'string') bfd.set(`${p.vrf === 'default' ? '' : p.vrf ?? ''}|${p.peer}`, p.status);
    }
  }
  const byVrf: Array<[string, Json]> = [];
  for (const [key, value] of Object.entries((neighborsJson ?? {}) as Json)) {
    if (isNeighbor(value)) {
      byVrf.push(['', { [key]: value }]);
    } else if (value && typeof value === 'object') {
      const vrf = (value as Json).vrfName;
      byVrf.push([vrf === 'default' || vrf === undefined ? (key === 'default' ? '' : key) : String(vrf), value as Json]);
    }
  }
  const sessions: SessionReport[] = [];
  for (const [vrf, neighbors] of byVrf) {
    for (const [peer, n] of Object.entries(neighbors)) {
      if (!isNeighbor(n)) continue;
      const families = Object.values((n.addressFamilyInfo ?? {}) as Record<string, Json>);
      const sum = (field: string) => families.reduce((acc, f) => acc + (typeof f[field] === 'number' ? (f[field] as number) : 0), 0);
      const established = n.bgpState === 'Established';
      const peerBfd = (n.peerBfdInfo as Json | undefined)?.status;
      sessions.push({
        node, peer, vrf,
        bgpState: String(n.bgpState),
        bfdState: bfd.get(`${vrf}|${peer}`) ?? (typeof peerBfd === 'string' ? peerBfd.toLowerCase() : null),
        uptimeSeconds: established && typeof n.bgpTimerUpMsec === 'number' ? Math.floor(n.bgpTimerUpMsec / 1000) : null,
        prefixesReceived: sum('acceptedPrefixCounter'),
        prefixesSent: established ? sum('sentPrefixCounter') : 0,
        lastResetReason: typeof n.lastResetDueTo === 'string' ? n.lastResetDueTo : null,
      });
    }
  }
  return sessions.sort((a, b) => a.vrf!.localeCompare(b.vrf!) || a.peer.localeCompare(b.peer));
}

/** `show version` → "8.4.4". */
export function frrVersionFrom(showVersion: string): string | undefined {
  return /FRRouting (\d+\.\d+(?:\.\d+)?)/.exec(showVersion)?.[1];
}

/** frr-k8s BGPSessionState objects (one per node × peer × VRF). */
export function sessionsFromBgpSessionStates(items: Array<{ status?: Json }>): SessionReport[] {
  return items.filter((i) => i.status?.node && i.status.peer).map((i) => {
    const s = i.status!;
    const bfd = typeof s.bfdStatus === 'string' && s.bfdStatus !== 'N/A' ? s.bfdStatus.toLowerCase() : null;
    return { node: String(s.node), peer: String(s.peer), vrf: typeof s.vrf === 'string' ? s.vrf : '', bgpState: String(s.bgpStatus ?? 'Unknown'), bfdState: bfd };
  });
}

/** MetalLB ConfigurationState objects: the errors of those whose result is Invalid. */
export function configurationErrors(items: Array<{ metadata?: { name?: string }; status?: Json }>): string[] {
  return items.filter((i) => i.status?.result === 'Invalid')
    .map((i) => `${i.metadata?.name ?? 'configurationstate'}: ${String(i.status?.errorSummary ?? 'MetalLB rejected the configuration')}`);
}

/** The speaker's `metallb_bgp_session_up{peer="IP:PORT"} 1|0` lines (native mode has no session CRD). */
export function sessionsFromSpeakerMetrics(node: string, text: string): SessionReport[] {
  const sessions: SessionReport[] = [];
  for (const line of text.split('\n')) {
    const m = /^metallb_bgp_session_up\{([^}]*)\}\s+([0-9.eE+-]+)/.exec(line.trim());
    if (!m) continue;
    const peerLabel = /(?:^|,)peer="([^"]+)"/.exec(m[1]!)?.[1];
    if (!peerLabel) continue;
    // IPv4 "192.168.1.1:179"; IPv6 appears without brackets, so the port is after the last colon.
    const peer = peerLabel.slice(0, peerLabel.lastIndexOf(':'));
    sessions.push({ node, peer, vrf: '', bgpState: Number(m[2]) === 1 ? 'Established' : 'Idle', bfdState: null });
  }
  return sessions;
}
