// What each backend can express, as one table that validation consults (docs/architecture.md):
// a feature a backend lacks maps to the stable code that refuses it there, and a host daemon's
// reported version gates the backend (and features that need a newer one). MetalLB native mode
// lacks exactly MetalLB's DiscardFRROnly set (internal/config/validation.go, v0.16.1) plus IPv6
// peers (its dial address is broken for IPv6, see docs/metallb.md); a host daemon has no
// Kubernetes: no L2, no Secrets, no services; BIRD and GoBGP lack what their rows say (each
// checked against BIRD 2.0.12 and GoBGP 3.10 in test/render/daemons-real.test.ts). Pure.
import type { Backend } from './policy.ts';
import type { ClusterIntent } from './model.ts';
import { parseVersion, versionAtLeast } from './grammar.ts';
import type { Collector } from './problems.ts';
import { hostRouterId } from './resolve.ts';
import { FEATURE_USES, type Feature } from './feature-uses.ts';

export type { Feature } from './feature-uses.ts';

/** How a backend runs peers: one FRR per node (MetalLB FRR modes), one host daemon, or not FRR. */
export type PeerSharing = 'per-node' | 'one-host' | 'none';

type Version = [number, number, number];

/** The host daemon whose version the agent reports, and what that version must be. */
export interface DaemonGate {
  /** As people name it: BIRD, GoBGP. */
  name: string;
  /** The capability the agent reports it in. */
  reported: 'birdVersion' | 'gobgpVersion';
  /** Below this the renderer's config does not apply (refused with `<daemon>-version-unsupported`). */
  minimum: Version;
  /** Features that need a newer version than the minimum; unknown version: `<daemon>-version-unknown`. */
  since: Partial<Record<Feature, { version: Version; code: string }>>;
}

export interface BackendCapabilities {
  /** How refusals name a cluster of this backend. */
  label: string;
  /** The daemon as `{host}` in messages, and its config file as `{file}` (host backends). */
  host?: { name: string; file: string };
  /** Features this backend cannot express, each with the code that refuses it. */
  refuses: Partial<Record<Feature, string>>;
  /** Peers that share an FRR share its router: one router ID, one myASN per VRF, no repeated neighbor. */
  peerSharing: PeerSharing;
  /** The remedy every refusal of this backend names, unless the use names its own. */
  remedy: string;
  daemon?: DaemonGate;
  /** The daemon needs a router ID in its config (from a peer's routerID, else the node's IPv4 address). */
  needsRouterId?: boolean;
}

const NATIVE_REMEDY = 'use backend metallb-frr-k8s (MetalLB 0.16 default), which supports it, or remove the field for this cluster';
const hostRemedy = (host: string) => `give the object a clusterSelector that excludes ${host} clusters, or change the field`;

/** What no host daemon can do: it has no Kubernetes. */
const NO_KUBERNETES = (suffix: string) => ({
  l2: `l2-unsupported-on-${suffix}`, passwordSecret: `password-secret-unsupported-on-${suffix}`,
  serviceSelectors: `service-selectors-unsupported-on-${suffix}`,
});

/** What metalfleet renders for FRR only: one session per family, peers by address, no VRFs. */
const FRR_ONLY = (suffix: string) => ({
  vrf: `vrf-unsupported-on-${suffix}`, unnumbered: `interface-unsupported-on-${suffix}`,
  dualStackAddressFamily: `dual-stack-unsupported-on-${suffix}`, loopbackPeering: `loopback-peering-unsupported-on-${suffix}`,
  linkLocalPeers: `link-local-peer-unsupported-on-${suffix}`, keepaliveZero: `keepalive-zero-unsupported-on-${suffix}`,
});

const LINK_LOCAL = 'link-local-peer-needs-interface';

export const CAPABILITIES: Readonly<Record<Backend, BackendCapabilities>> = {
  'metallb-native': {
    label: 'MetalLB native mode',
    refuses: {
      bfd: 'native-bfd-unsupported', keepaliveTime: 'native-keepalive-unsupported', vrf: 'native-vrf-unsupported',
      connectTime: 'native-connect-time-unsupported', gracefulRestart: 'native-graceful-restart-unsupported',
      dualStackAddressFamily: 'native-dual-stack-unsupported', dynamicASN: 'native-dynamic-asn-unsupported',
      unnumbered: 'native-interface-unsupported', localASN: 'native-local-asn-unsupported',
      ipv6Peers: 'native-ipv6-peer-unsupported', ipv6Announcements: 'native-ipv6-unsupported',
      largeCommunities: 'native-large-community-unsupported',
    },
    peerSharing: 'none',
    remedy: NATIVE_REMEDY,
  },
  // A link-local neighbor needs its interface to connect (FRR renders `neighbor fe80::… remote-as`
  // with no scope, and the session never opens): unnumbered peering (`interface`) is the way.
  'metallb-frr': { label: 'backend metallb-frr', refuses: { linkLocalPeers: LINK_LOCAL }, peerSharing: 'per-node', remedy: '' },
  // MetalLB 0.16 drops sourceAddress and localASN when it writes its FRRConfiguration
  // (internal/bgp/frrk8s/frrk8s.go), and frr-k8s refuses to merge a second FRRConfiguration whose
  // neighbor differs in either ("multiple source addresses specified for …"): nothing can carry them.
  'metallb-frr-k8s': {
    label: 'backend metallb-frr-k8s',
    refuses: {
      linkLocalPeers: LINK_LOCAL, sourceAddress: 'frr-k8s-source-address-unsupported', localASN: 'frr-k8s-local-asn-unsupported',
    },
    peerSharing: 'per-node',
    remedy: 'MetalLB 0.16 drops it in frr-k8s mode: use backend metallb-frr or a host FRR cluster for this peer, or remove the field',
  },
  frr: {
    label: 'a host FRR cluster', host: { name: 'host FRR', file: 'frr.conf' },
    refuses: { ...NO_KUBERNETES('frr'), linkLocalPeers: LINK_LOCAL },
    peerSharing: 'one-host',
    remedy: hostRemedy('host FRR'),
  },
  // BIRD 2: BFD through its own protocol (no echo, no minimum TTL; a multihop session needs a local
  // address for it), strings without escapes, keepalives whenever there is a hold time.
  bird: {
    label: 'a host BIRD cluster', host: { name: 'host BIRD', file: 'bird.conf' },
    refuses: {
      ...NO_KUBERNETES('bird'), ...FRR_ONLY('bird'),
      bfdEcho: 'bfd-echo-unsupported-on-bird', bfdMinimumTtl: 'bfd-minimum-ttl-unsupported-on-bird',
      multihopBfdWithoutSource: 'bird-multihop-bfd-needs-source-address', passwordQuote: 'password-quote-unsupported-on-bird',
    },
    peerSharing: 'one-host',
    remedy: hostRemedy('host BIRD'),
    // BIRD 2 channels (`ipv4 { }`); per-session BFD options came in 2.0.8 (NEWS: "BFD: Per-peer session options").
    needsRouterId: true,
    daemon: {
      name: 'BIRD', reported: 'birdVersion', minimum: [2, 0, 0],
      since: { bfdSessionOptions: { version: [2, 0, 8], code: 'bird-bfd-options-need-2.0.8' } },
    },
  },
  // GoBGP 3: no BFD, no dynamic ASNs (outside peer groups); routes come through its API.
  gobgp: {
    label: 'a host GoBGP cluster', host: { name: 'host GoBGP', file: 'gobgpd.toml' },
    refuses: {
      ...NO_KUBERNETES('gobgp'), ...FRR_ONLY('gobgp'),
      bfdSessions: 'bfd-unsupported-on-gobgp', dynamicASN: 'dynamic-asn-unsupported-on-gobgp',
      // gobgpd 3.10 applies its defaults again when a peer is added, so hold-time = 0 runs as 90s.
      holdTimeZero: 'hold-time-zero-unsupported-on-gobgp',
    },
    peerSharing: 'one-host',
    remedy: hostRemedy('host GoBGP'),
    // The agent drives gobgpd through GoBGP 3's API and reads its JSON (`gobgp neighbor -j`).
    needsRouterId: true,
    daemon: { name: 'GoBGP', reported: 'gobgpVersion', minimum: [3, 0, 0], since: {} },
  },
};

/** Refuses every use of a feature the cluster's backend lacks, as the capability table says. */
export function validateCapabilities(out: Collector, intent: ClusterIntent): void {
  const backend = intent.cluster.backend;
  const caps = CAPABILITIES[backend];
  const fill = (text: string) => (caps.host
    ? text.replaceAll('{host}', caps.host.name).replaceAll('{file}', caps.host.file) : text);
  const seen = new Set<string>();
  for (const [feature, code] of Object.entries(caps.refuses) as Array<[Feature, string]>) {
    for (const use of FEATURE_USES[feature](intent)) {
      if (seen.has(`${code} ${use.path}`)) continue;
      seen.add(`${code} ${use.path}`);
      out.add(code, use.path, fill(`${caps.label} does not support ${use.what}`),
        fill(use.remedy && backend !== 'metallb-native' ? use.remedy : caps.remedy));
    }
  }
  if (caps.daemon) validateDaemonVersion(out, intent, caps.daemon);
  // BIRD would pick one from the interfaces (and stop where there is no IPv4 address); GoBGP needs one.
  if (caps.needsRouterId && intent.peers.length > 0 && hostRouterId(intent) === undefined) {
    out.add('router-id-unknown', `peers/${intent.peers[0]!.name}/routerID`,
      `${fill(caps.label)} needs a router ID: no peer sets routerID and the agent has reported no IPv4 node address`,
      'set routerID on the peers, or start the agent with --node-address (or give the node a default route)');
  }
}

function validateDaemonVersion(out: Collector, intent: ClusterIntent, gate: DaemonGate): void {
  const reported = intent.cluster.capabilities[gate.reported];
  const version = parseVersion(reported);
  const prefix = gate.name.toLowerCase();
  const path = `cluster/capabilities/${gate.reported}`;
  if (version && !versionAtLeast(version, gate.minimum)) {
    out.add(`${prefix}-version-unsupported`, path,
      `metalfleet renders for ${gate.name} ${gate.minimum.join('.')} or newer, `
        + `and this cluster's agent reports ${gate.name} ${reported}`,
      `upgrade ${gate.name} on the node to ${gate.minimum.join('.')} or newer`);
    return;
  }
  const gates = Object.entries(gate.since) as Array<[Feature, { version: Version; code: string }]>;
  for (const [feature, { version: since, code }] of gates) {
    for (const use of FEATURE_USES[feature](intent)) {
      if (!version) {
        out.add(`${prefix}-version-unknown`, use.path,
          `${use.what} needs ${gate.name} ${since.join('.')} or newer, `
            + `and this cluster has not reported its ${gate.name} version`,
          `enroll the agent so it reports the ${gate.name} version, or remove the field`);
      } else if (!versionAtLeast(version, since)) {
        out.add(code, use.path,
          `${gate.name} ${reported} lacks ${use.what} (it came in ${gate.name} ${since.join('.')})`,
          `upgrade ${gate.name} on the node to ${since.join('.')} or newer, or remove the field`);
      }
    }
  }
}
