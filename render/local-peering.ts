// Same-host peering (a routing daemon on the node itself) and what it needs: FRR peers over
// 127.0.0.0/8 only from 9.0 with `allow-reserved-ranges`, never over ::1; a host FRR gives such a
// peer the node's own address as next hop (what its agent reports), or what the local daemon
// passes upstream is unusable (docs/frr-10.md). Pure.
import type { Backend } from './policy.ts';
import type { ClusterIntent, Peer } from './model.ts';
import { cidrContains, LOOPBACK_V4, parseIp, parseVersion, versionAtLeast, type Family, type ParsedIp } from './grammar.ts';
import { tryParse, type Collector } from './problems.ts';
import { nodeAddress } from './resolve.ts';

const FRR_BACKENDS: ReadonlySet<Backend> = new Set(['metallb-frr', 'metallb-frr-k8s', 'frr']);
export const isFrrBackend = (backend: Backend) => FRR_BACKENDS.has(backend);

const LOCAL_PEERING_FRR8_REMEDY = 'peer via the node address instead of 127.0.0.0/8; bgpd must not listen on it (-p 0); BIRD needs multihop';
const MIN_FRR_FOR_LOOPBACK: [number, number, number] = [9, 0, 0];
/** MetalLB has shipped FRR >= 9.0.2 since v0.14.4. */
const MIN_METALLB_WITH_FRR9: [number, number, number] = [0, 14, 4];

/**
 * The FRR version of a cluster: reported by the agent, or implied by the MetalLB version for the
 * MetalLB FRR-based modes. Undefined when nothing has been reported yet.
 */
export function effectiveFrrVersion(intent: ClusterIntent): [number, number, number] | undefined {
  const caps = intent.cluster.capabilities;
  const reported = parseVersion(caps.frrVersion);
  if (reported) return reported;
  if (intent.cluster.backend === 'metallb-frr' || intent.cluster.backend === 'metallb-frr-k8s') {
    const metallb = parseVersion(caps.metallbVersion);
    if (metallb && versionAtLeast(metallb, MIN_METALLB_WITH_FRR9)) return MIN_FRR_FOR_LOOPBACK;
  }
  return undefined;
}

/** Is this peer the node's own routing daemon? */
export function isLocalPeer(peer: Pick<Peer, 'localPeering' | 'peerAddress'>): boolean {
  if (peer.localPeering) return true;
  const ip = tryParse(() => parseIp(peer.peerAddress ?? ''));
  return ip ? isLoopback(ip) : false;
}

function isLoopback(ip: ParsedIp): boolean {
  return (ip.family === 4 && cidrContains(LOOPBACK_V4, ip)) || (ip.family === 6 && ip.text === '::1');
}


/** Is the peer's address in 127.0.0.0/8? */
export function isLoopbackV4Peer(peer: Pick<Peer, 'peerAddress'>): boolean {
  const ip = tryParse(() => parseIp(peer.peerAddress ?? ''));
  return ip?.family === 4 && cidrContains(LOOPBACK_V4, ip);
}

/** The address families a session with this peer carries. */
const sessionFamilies = (peer: Peer): Family[] => (peer.dualStackAddressFamily ? [4, 6] : [4]);

/**
 * The next hop a host FRR sets, per family, on what it announces to a 127.0.0.0/8 local peer: the
 * node's address. FRR would send 127.0.0.1, which the local daemon cannot resolve, and which an
 * iBGP session passes upstream as a black hole.
 */
export function localPeerNextHops(intent: ClusterIntent, peer: Peer): Partial<Record<Family, string>> {
  if (intent.cluster.backend !== 'frr' || !intent.policy.allowLocalPeering || !isLoopbackV4Peer(peer)) return {};
  const hops: Partial<Record<Family, string>> = {};
  for (const family of sessionFamilies(peer)) {
    const address = nodeAddress(intent, family);
    if (address !== undefined) hops[family] = address;
  }
  return hops;
}

/** Does the rendered config need FRR's `allow-reserved-ranges` (127/8 peering on FRR >= 9)? */
export function needsAllowReservedRanges(intent: ClusterIntent): boolean {
  if (!isFrrBackend(intent.cluster.backend) || !intent.policy.allowLocalPeering) return false;
  const version = effectiveFrrVersion(intent);
  if (!version || !versionAtLeast(version, MIN_FRR_FOR_LOOPBACK)) return false;
  return intent.peers.some(isLoopbackV4Peer);
}

/** Local peering on this cluster's backend and FRR version (the policy already allows it). */
export function validateLocalPeering(out: Collector, intent: ClusterIntent, peer: Peer) {
  const at = (field: string) => `peers/${peer.name}/${field}`;
  const address = tryParse(() => parseIp(peer.peerAddress ?? ''));
  if (!isFrrBackend(intent.cluster.backend) || !address) return;
  if (address.family === 6 && address.text === '::1') {
    out.add('local-peering-ipv6-loopback', at('peerAddress'), 'FRR never peers over ::1 (it is always martian)',
      'peer via a node address (global or ULA) instead');
    return;
  }
  if (address.family === 4 && cidrContains(LOOPBACK_V4, address)) {
    if (intent.cluster.backend === 'frr') {
      for (const family of sessionFamilies(peer).filter((f) => nodeAddress(intent, f) === undefined)) {
        out.add('node-address-unknown', at('peerAddress'),
          `a host FRR gives its 127.0.0.0/8 local peer the node's IPv${family} address as next hop, `
            + 'and this cluster\'s agent has reported none',
          'start the agent with --node-address <the node address the upstream routers reach>, or give the node a default route '
          + '(the agent reports its source address)');
      }
    }
    const version = effectiveFrrVersion(intent);
    if (!version) {
      out.add('frr-version-unknown', at('peerAddress'),
        'peering over 127.0.0.0/8 needs FRR 9.0 or newer, and this cluster has not reported its FRR version',
        'enroll the agent so it reports the FRR version, or ' + LOCAL_PEERING_FRR8_REMEDY);
    } else if (!versionAtLeast(version, MIN_FRR_FOR_LOOPBACK)) {
      out.add('local-peering-needs-frr-9', at('peerAddress'),
        `FRR ${version.join('.')} cannot peer over 127.0.0.0/8 (allow-reserved-ranges covers it from FRR 9.0)`,
        LOCAL_PEERING_FRR8_REMEDY);
    }
  }
}

