import { renderCluster } from '../render/index.ts';
const backends = (process.env.B ?? 'frr,metallb-native').split(',');
function hostIntent(backend: any, pools: number, peers: number) {
  return {
    cluster: { name: 'bench', backend, namespace: 'metallb-system', capabilities: { frrVersion: '9.1.0', metallbVersion: '0.16.1' } },
    policy: { allowedASNs: [{ from: 64512, to: 65534 }], allowedPeerCIDRs: ['10.0.0.0/8', 'fd00::/8'] },
    pools: Array.from({ length: pools }, (_, i) => ({ name: `pool-${i}`, cidrs: [`100.${64 + Math.floor(i / 256)}.${i % 256}.0/28`] })),
    peers: Array.from({ length: peers }, (_, i) => ({ name: `peer-${i}`, myASN: 64512, peerASN: 64600, peerAddress: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`, holdTime: 90 })),
    advertisements: [{ name: 'all', type: 'bgp' as const, communities: ['64512:100'], localPref: 100 }],
  };
}
for (const b of backends) {
  const intent = hostIntent(b, 500, 100);
  const first = renderCluster(intent as any);
  if (!first.ok) throw new Error(JSON.stringify(first.problems.slice(0, 2)));
  for (let i = 0; i < 5; i++) renderCluster(intent as any);
  const times: number[] = [];
  for (let i = 0; i < Number(process.env.N ?? 15); i++) { const t = performance.now(); renderCluster(intent as any); times.push(performance.now() - t); }
  times.sort((a, c) => a - c);
  console.log(b, 'median', times[Math.floor(times.length / 2)]!.toFixed(1), 'ms', (first as any).content.length);
}
