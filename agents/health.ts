// Turning what routers say into session reports. Pure parsers, one per source:
// - host FRR and MetalLB FRR mode: `show bgp vrf all neighbors json` and `show bfd peers json`;
// - frr-k8s: BGPSessionState objects (status: node, peer, vrf, bgpStatus, bfdStatus);
// - MetalLB native mode: the speaker's `metallb_bgp_session_up{peer="IP:PORT"}` metric;
// - MetalLB ConfigurationState: a configuration MetalLB rejected is an apply error;
// - host BIRD: `birdc show protocols all` and `show bfd sessions`; host GoBGP: `gobgp neighbor -j`.
// Field names: FRR bgpd/bgp_vty.c and bfdd (real 8.4.4 output in test/fixtures/frr-8.4.4).
import type { SessionReport } from './client.ts';

type Json = Record<string, unknown>;

function isNeighbor(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && 'bgpState' in value;
}

/**
 * FRR's `lastResetDueTo` is the last value it put in peer->last_reset, and FRR also sets that when no
 * session went down at all: a peer that never dropped, Established since its first connection, says
 * "Waiting for peer OPEN" (test/fixtures/frr-8.4.4/gobgp-show_bgp_neighbors.json,
 * connectionsDropped 0). A reason is reported only when a session was reset (a drop counted).
 */
function resetReason(n: Json): string | null {
  if (typeof n.lastResetDueTo !== 'string') return null;
  return typeof n.connectionsDropped === 'number' && n.connectionsDropped > 0 ? n.lastResetDueTo : null;
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
        lastResetReason: resetReason(n),
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

/** `birdc show status` → "2.0.12". */
export function birdVersionFrom(showStatus: string): string | undefined {
  return /^BIRD (\d+\.\d+(?:\.\d+)?)\s*$/m.exec(showStatus)?.[1];
}

/** `gobgpd --version` → "3.10.0". */
export function gobgpVersionFrom(version: string): string | undefined {
  return /gobgpd version v?(\d+\.\d+(?:\.\d+)?)/.exec(version)?.[1];
}

/**
 * BIRD's protocol "Since" column as seconds ago: a time of day (today, or yesterday when that is
 * still to come); a date alone (older than BIRD's 20 hours) says too little: null.
 */
function birdSecondsSince(since: string, now: Date): number | null {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(since);
  if (!m) return null;
  const at = new Date(now);
  at.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number((m[4] ?? '0').padEnd(3, '0').slice(0, 3)));
  if (at.getTime() > now.getTime() + 1000) at.setDate(at.getDate() - 1);
  return Math.max(0, Math.floor((now.getTime() - at.getTime()) / 1000));
}

/**
 * BIRD 2 `show protocols all` (BGP protocols: state, neighbor, last error, routes per channel) and
 * `show bfd sessions` (state per neighbor address, capitalised there: lowercased as FRR prints it).
 */
export function sessionsFromBird(node: string, protocolsAll: string, bfdSessions = '', now = new Date()): SessionReport[] {
  const bfd = new Map<string, string>();
  for (const m of bfdSessions.matchAll(/^([0-9a-fA-F.:]+)\s+\S+\s+(Up|Down|Init|AdminDown)\s/gm)) {
    bfd.set(m[1]!, m[2]!.toLowerCase());
  }
  const sessions: SessionReport[] = [];
  // Each protocol starts with its row at column 0: name, proto, table, state, since, info.
  for (const block of protocolsAll.split(/\n(?=\S)/)) {
    const row = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+(\S+)/.exec(block);
    if (!row) continue;
    const field = (name: string) => new RegExp(`^\\s+${name}:\\s+(.+?)\\s*$`, 'm').exec(block)?.[1];
    const peer = field('Neighbor address');
    if (!peer) continue;
    const bgpState = field('BGP state') ?? 'Unknown';
    const routes = [...block.matchAll(/^\s+Routes:\s+(\d+) imported, (?:(\d+) filtered, )?(\d+) exported/gm)];
    const established = bgpState === 'Established';
    sessions.push({
      node, peer, vrf: '', bgpState,
      bfdState: bfd.get(peer) ?? null,
      uptimeSeconds: established ? birdSecondsSince(row[3]!, now) : null,
      prefixesReceived: routes.reduce((n, r) => n + Number(r[1]), 0),
      prefixesSent: established ? routes.reduce((n, r) => n + Number(r[3]), 0) : 0,
      lastResetReason: field('Last error') ?? null,
    });
  }
  return sessions.sort((a, b) => a.peer.localeCompare(b.peer));
}

/** GoBGP's `session_state` (api.PeerState.SessionState). */
const GOBGP_STATES = ['Unknown', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** `gobgp neighbor -j` (GoBGP 3: protobuf JSON, snake_case, zero values left out). */
export function sessionsFromGobgp(node: string, neighborsJson: unknown, now = new Date()): SessionReport[] {
  const peers = Array.isArray(neighborsJson) ? (neighborsJson as Json[]) : [];
  return peers.flatMap((p) => {
    const state = (p.state ?? {}) as Json;
    const conf = (p.conf ?? {}) as Json;
    const peer = String(state.neighbor_address ?? conf.neighbor_address ?? '');
    if (!peer) return [];
    const raw = state.session_state;
    const bgpState = typeof raw === 'number' ? GOBGP_STATES[raw] ?? 'Unknown'
      : typeof raw === 'string' ? (GOBGP_STATES.find((s) => s.toUpperCase() === raw.toUpperCase()) ?? raw) : 'Idle';
    const established = bgpState === 'Established';
    const families = ((p.afi_safis ?? []) as Json[]).map((f) => (f.state ?? {}) as Json);
    const sum = (key: string) => families.reduce((n, f) => n + (typeof f[key] === 'number' ? (f[key] as number) : 0), 0);
    const since = ((p.timers as Json | undefined)?.state as Json | undefined)?.uptime as Json | undefined;
    const upSeconds = typeof since?.seconds === 'number' ? since.seconds : Number(since?.seconds ?? NaN);
    return [{
      node, peer, vrf: '', bgpState, bfdState: null,
      uptimeSeconds: established && Number.isFinite(upSeconds)
        ? Math.max(0, Math.floor(now.getTime() / 1000 - upSeconds)) : null,
      prefixesReceived: sum('accepted'),
      prefixesSent: established ? sum('advertised') : 0,
      lastResetReason: null,
    }];
  }).sort((a, b) => a.peer.localeCompare(b.peer));
}
