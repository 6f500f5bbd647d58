import { renderCluster } from '../render/index.ts';
import { validateIntent } from '../render/validate.ts';
import { ClusterIntent } from '../render/model.ts';
const intent = (backend: any): any => ({
  cluster: { name: 'bench', backend, namespace: 'metallb-system', capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1' } },
  policy: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] },
  pools: Array.from({ length: 500 }, (_, i) => ({ name: `pool-${i}`, cidrs: [`100.${64 + Math.floor(i / 256)}.${i % 256}.0/28`] })),
  peers: Array.from({ length: 100 }, (_, i) => ({ name: `peer-${i}`, myASN: 64512, peerASN: 64600, peerAddress: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`, holdTime: 90 })),
  advertisements: [{ name: 'all', type: 'bgp', communities: ['64512:100'], localPref: 100 }],
});
for (const b of ['metallb-frr-k8s', 'frr']) {
  const i = ClusterIntent.parse(intent(b));
  let t = performance.now(); for (let k = 0; k < 5; k++) validateIntent(i); console.log(b, 'validate', ((performance.now() - t) / 5).toFixed(1));
  t = performance.now(); for (let k = 0; k < 5; k++) renderCluster(intent(b)); console.log(b, 'total', ((performance.now() - t) / 5).toFixed(1));
}
