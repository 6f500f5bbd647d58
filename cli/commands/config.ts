// `metalfleet config show|diff|rollback CLUSTER`: a cluster's rendered config (passwords redacted by
// the API), the diff between two of its revisions, and serving an earlier revision again.
import type { Command } from 'commander';
import { paintDiff, printData, runReporting, usageError, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions, type Remote } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

const revisionNumber = (text: string | undefined, option: string) => {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw usageError(`${option} ${text}: a revision number (1, 2, …)`);
  return text;
};

/** The cluster's desired revision, the default of show and diff. */
async function desiredRevision(remote: Remote, cluster: string): Promise<string> {
  const found = await ok(remote.api.GET('/v1/tenants/{tenant}/clusters/{name}', { params: { path: { tenant: remote.tenant(), name: cluster } } }));
  return String(found.desiredRevision);
}

export function registerConfigCommands(root: Command): void {
  const config = root.command('config').description("a cluster's rendered config: show, diff, rollback");

  clientOptions(config.command('show').description('print the rendered config of a cluster (the latest revision, or --revision N)')
    .argument('<cluster>', 'the cluster').option('--revision <n>', 'an earlier revision'), { formats: ['table', 'json', 'yaml'] })
    .addHelpText('after', CLIENT_HELP)
    .action((cluster: string, opts: ClientOptions & { revision?: string }) => runReporting(async () => {
      const remote = connect(opts);
      const revision = revisionNumber(opts.revision, '--revision');
      const shown = await ok(remote.api.GET('/v1/tenants/{tenant}/clusters/{name}/config', {
        params: { path: { tenant: remote.tenant(), name: cluster }, query: revision ? { revision } : {} },
      }));
      // Without ?format the API answers JSON; the other content types are for ?format=yaml|json.
      if (typeof shown === 'string') write(shown);
      else if (remote.format === 'table') write(shown.content);
      else printData(shown, remote.format === 'json' ? 'json' : 'yaml');
    }));

  clientOptions(config.command('diff').description('the unified diff of a revision against the one before (or --from N)')
    .argument('<cluster>', 'the cluster')
    .option('--revision <n>', 'the newer revision (default: the desired one)').option('--from <n>', 'the older revision (default: the one before)'),
  { formats: ['table'] })
    .addHelpText('after', CLIENT_HELP)
    .action((cluster: string, opts: ClientOptions & { revision?: string; from?: string }) => runReporting(async () => {
      const remote = connect(opts);
      const from = revisionNumber(opts.from, '--from');
      const revision = revisionNumber(opts.revision, '--revision') ?? await desiredRevision(remote, cluster);
      const diff = await ok(remote.api.GET('/v1/tenants/{tenant}/clusters/{name}/revisions/{revision}/diff', {
        params: { path: { tenant: remote.tenant(), name: cluster, revision }, query: from ? { from } : {} }, parseAs: 'text',
      }));
      write(paintDiff(diff.trimEnd()));
    }));

  clientOptions(config.command('rollback').description("serve an earlier revision's intent again (re-validated against today's policy and grants)")
    .argument('<cluster>', 'the cluster').requiredOption('--to <n>', 'the revision to serve again'), { formats: ['table', 'json', 'yaml'] })
    .addHelpText('after', CLIENT_HELP)
    .action((cluster: string, opts: ClientOptions & { to: string }) => runReporting(async () => {
      const remote = connect(opts);
      const to = Number(revisionNumber(opts.to, '--to'));
      const made = await ok(remote.api.POST('/v1/tenants/{tenant}/clusters/{name}/rollback', {
        params: { path: { tenant: remote.tenant(), name: cluster } }, body: { revision: to },
      }));
      if (remote.format === 'table') write(`cluster ${cluster} now serves r${made.revision} (the intent of r${to}) until the next change that affects it`);
      else printData(made, remote.format === 'json' ? 'json' : 'yaml');
    }));
}
