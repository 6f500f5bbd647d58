import { renderCluster } from '../render/index.ts';
const intent: any = {
  cluster: { name: 'bench', backend: 'metallb-frr-k8s', namespace: 'metallb-system', capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1' } },
  policy: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] },
  pools: Array.from({ length: 500 }, (_, i) => ({ name: `pool-${i}`, cidrs: [`100.${64 + Math.floor(i / 256)}.${i % 256}.0/28`] })),
  peers: Array.from({ length: 100 }, (_, i) => ({ name: `peer-${i}`, myASN: 64512, peerASN: 64600, peerAddress: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`, holdTime: 90 })),
  advertisements: [{ name: 'all', type: 'bgp', communities: ['64512:100'], localPref: 100 }],
};
for (let k = 0; k < 30; k++) renderCluster(intent);
