// `metalfleet sessions CLUSTER`: the BGP and BFD sessions its agent last reported.
import type { Command } from 'commander';
import { printRows, runReporting } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

export function registerSessionsCommand(root: Command): void {
  clientOptions(root.command('sessions').description("a cluster's BGP/BFD sessions as its agent last reported them")
    .argument('<cluster>', 'the cluster'))
    .addHelpText('after', CLIENT_HELP)
    .action((cluster: string, opts: ClientOptions) => runReporting(async () => {
      const remote = connect(opts);
      const { items } = await ok(remote.api.GET('/v1/tenants/{tenant}/clusters/{name}/sessions', {
        params: { path: { tenant: remote.tenant(), name: cluster } },
      }));
      printRows(items, [
        { header: 'node', value: (s) => s.node }, { header: 'peer', value: (s) => s.peer }, { header: 'vrf', value: (s) => s.vrf },
        { header: 'bgp', value: (s) => s.bgpState }, { header: 'bfd', value: (s) => s.bfdState },
        { header: 'uptime', value: (s) => (s.uptimeSeconds === null ? null : `${s.uptimeSeconds}s`) },
        { header: 'received', value: (s) => s.prefixesReceived }, { header: 'sent', value: (s) => s.prefixesSent },
        { header: 'last-reset', value: (s) => s.lastResetReason },
      ], remote.format, items);
    }));
}
