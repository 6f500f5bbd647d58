// `metalfleet fleet`: per tenant, clusters by sync state and sessions by BGP state (platform admins
// see every tenant, a tenant token its own).
import type { Command } from 'commander';
import { printRows, runReporting } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

const counts = (byState: Record<string, number>) => Object.entries(byState).filter(([, n]) => n > 0).map(([state, n]) => `${state}=${n}`);
const total = (byState: Record<string, number>) => Object.values(byState).reduce((a, b) => a + b, 0);

export function registerFleetCommand(root: Command): void {
  clientOptions(root.command('fleet').description('fleet health: per tenant, clusters by sync state and sessions by BGP state'), { tenant: false })
    .addHelpText('after', CLIENT_HELP)
    .action((opts: ClientOptions) => runReporting(async () => {
      const remote = connect(opts);
      const health = await ok(remote.api.GET('/v1/fleet/health'));
      printRows(health.tenants, [
        { header: 'tenant', value: (t) => t.tenant }, { header: 'clusters', value: (t) => total(t.clusters) },
        { header: 'by-state', value: (t) => counts(t.clusters) }, { header: 'sessions', value: (t) => total(t.sessions) },
        { header: 'by-bgp-state', value: (t) => counts(t.sessions) },
      ], remote.format, health);
    }));
}
