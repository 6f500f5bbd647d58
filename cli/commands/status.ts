// `metalfleet status [CLUSTER]`: desired against applied revision and sync state, of one cluster or
// of every cluster of the tenant.
import type { Command } from 'commander';
import type { components } from '../api-types.ts';
import { paint, printRows, runReporting, type Column } from '../output.ts';
import { allPages, clientOptions, connect, ok, page, type ClientOptions, type Remote } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

type ClusterStatus = components['schemas']['ClusterStatus'];

const STATE_COLOUR = { 'in-sync': 'green', pending: 'yellow', failed: 'red', stale: 'red', 'never-seen': 'dim' } as const;

const COLUMNS: ReadonlyArray<Column<ClusterStatus>> = [
  { header: 'cluster', value: (s) => s.cluster }, { header: 'backend', value: (s) => s.backend },
  { header: 'sync', value: (s) => s.syncState }, { header: 'desired', value: (s) => s.desiredRevision },
  { header: 'applied', value: (s) => s.appliedRevision }, { header: 'last-seen', value: (s) => s.lastSeenAt?.slice(0, 19).replace('T', ' ') },
  { header: 'problem', value: (s) => s.lastApplyError ?? s.renderProblems?.map((p) => p.code) },
];

const statusOf = (remote: Remote, name: string) =>
  ok(remote.api.GET('/v1/tenants/{tenant}/clusters/{name}/status', { params: { path: { tenant: remote.tenant(), name } } }));

/** Every cluster's status, a few requests at a time. */
async function everyStatus(remote: Remote): Promise<ClusterStatus[]> {
  const clusters = await allPages((c) => ok(remote.api.GET('/v1/tenants/{tenant}/clusters', {
    params: { path: { tenant: remote.tenant() }, query: page(c) },
  })));
  const statuses: ClusterStatus[] = new Array(clusters.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < clusters.length; i = next++) statuses[i] = await statusOf(remote, clusters[i]!.name);
  };
  await Promise.all(Array.from({ length: Math.min(8, clusters.length) }, worker));
  return statuses;
}

export function registerStatusCommand(root: Command): void {
  clientOptions(root.command('status').description("clusters' sync state: desired and applied revision, last report, apply errors")
    .argument('[cluster]', 'one cluster (default: every cluster of the tenant)'))
    .addHelpText('after', CLIENT_HELP)
    .action((cluster: string | undefined, opts: ClientOptions) => runReporting(async () => {
      const remote = connect(opts);
      const statuses = cluster ? [await statusOf(remote, cluster)] : await everyStatus(remote);
      const columns = remote.format === 'table'
        ? COLUMNS.map((c) => (c.header === 'sync' ? { ...c, value: (s: ClusterStatus) => paint(STATE_COLOUR[s.syncState], s.syncState) } : c))
        : COLUMNS;
      printRows(statuses, columns, remote.format, cluster ? statuses[0] : statuses);
    }));
}
