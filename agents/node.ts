// The node's own addresses, which a host agent reports (capabilities nodeAddresses): what
// `--node-address` says, or else, per family, the source address of the node's default route
// (what the node's neighbours see it as, as kubelet picks a node IP). The renderers use them as
// the next hop FRR gives a 127.0.0.0/8 local peer and as the router ID of BIRD and GoBGP when no
// peer sets one.
import type { Runner } from './host-daemon.ts';

type Route = { dst?: string; gateway?: string; dev?: string; prefsrc?: string };

async function ipJson<T>(run: Runner, args: string[]): Promise<T | undefined> {
  const r = await run('ip', ['-j', ...args]);
  if (r.code !== 0) return undefined;
  try { return JSON.parse(r.stdout) as T; } catch { return undefined; }
}

/** The source address of the default route of one family, if the node has one. */
async function defaultRouteSource(run: Runner, family: '-4' | '-6'): Promise<string | undefined> {
  const [route] = (await ipJson<Route[]>(run, [family, 'route', 'show', 'default'])) ?? [];
  if (!route) return undefined;
  if (route.prefsrc) return route.prefsrc;
  // The address the kernel would send from towards the gateway (or out of the device).
  if (route.gateway) {
    const [via] = (await ipJson<Route[]>(run, [family, 'route', 'get', route.gateway])) ?? [];
    if (via?.prefsrc) return via.prefsrc;
  }
  if (!route.dev) return undefined;
  const [link] = (await ipJson<Array<{ addr_info?: Array<{ local?: string; scope?: string }> }>>(run,
    [family, 'address', 'show', 'dev', route.dev, 'scope', 'global'])) ?? [];
  return link?.addr_info?.find((a) => a.scope === 'global' && a.local)?.local;
}

/** The addresses given on the command line, else one per family from the default routes. */
export async function nodeAddresses(run: Runner, given: string[]): Promise<string[]> {
  if (given.length > 0) return given;
  const found = await Promise.all([defaultRouteSource(run, '-4'), defaultRouteSource(run, '-6')]);
  return found.filter((a): a is string => a !== undefined);
}
