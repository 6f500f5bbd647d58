// `metalfleet import -f metallb.yaml [--dry-run]`: MetalLB objects (what `kubectl get
// ipaddresspools,bgppeers,… -o yaml` prints) become the tenant's pools, peers, BFD profiles,
// communities and advertisements, in one transaction, through the usual validation.
import type { Command } from 'commander';
import { readDocumentText } from '../intent-view.ts';
import { EXIT, paint, printData, printRows, runReporting, table, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { fieldsOf } from './create.ts';
import { CLIENT_HELP } from './help.ts';

interface ImportOptions extends ClientOptions { filename: string; dryRun?: boolean; namespace?: string; clusterSelector?: string[] }

export function registerImportCommand(root: Command): void {
  clientOptions(root.command('import').description('import MetalLB objects (IPAddressPool, BGPPeer, BGPAdvertisement, …) into the tenant')
    .requiredOption('-f, --filename <file>', 'MetalLB YAML: a List or several documents (- for stdin)')
    .option('--dry-run', 'show what would be created and every problem; store nothing')
    .option('--namespace <ns>', 'the MetalLB namespace of the objects (default metallb-system)')
    .option('--cluster-selector <label=value...>', 'only clusters with these labels get the imported objects (default: every cluster)'),
  { formats: ['table', 'json', 'yaml'] })
    .addHelpText('after', CLIENT_HELP)
    .action((opts: ImportOptions) => runReporting(async () => {
      const { text } = readDocumentText(opts.filename);
      const remote = connect(opts);
      const matchLabels = Object.fromEntries(Object.entries(fieldsOf(opts.clusterSelector ?? [])).map(([k, v]) => [k, String(v)]));
      const outcome = await ok(remote.api.POST('/v1/tenants/{tenant}/imports', {
        params: { path: { tenant: remote.tenant() } },
        body: {
          document: text, apply: !opts.dryRun, ...(opts.namespace ? { namespace: opts.namespace } : {}),
          ...(opts.clusterSelector?.length ? { clusterSelector: { matchLabels } } : {}),
        },
      }));
      const errors = outcome.problems.filter((p) => p.severity === 'error');
      if (remote.format === 'json' || remote.format === 'yaml') printData(outcome, remote.format);
      else {
        printRows(outcome.changes, [{ header: 'action', value: () => (outcome.applied ? 'created' : 'would create') },
          { header: 'kind', value: (c) => c.collection }, { header: 'name', value: (c) => c.name }], 'table');
        if (outcome.problems.length > 0) {
          write(`\n${table(outcome.problems, [{ header: 'severity', value: (p) => p.severity }, { header: 'code', value: (p) => p.code },
            { header: 'path', value: (p) => p.path }, { header: 'message', value: (p) => p.message }, { header: 'remedy', value: (p) => p.remedy }])}`);
        }
        for (const c of outcome.clusters) {
          write(paint('red', `cluster ${c.cluster} (${c.backend}) could not take the result:`));
          for (const p of c.problems as Array<{ code?: string; path?: string; message?: string; remedy?: string }>) {
            write(`  ${p.code ?? 'refused'} ${p.path ?? ''}: ${p.message ?? ''}${p.remedy ? `\n    remedy: ${p.remedy}` : ''}`);
          }
        }
        const toFix = errors.length ? `; ${errors.length} error(s) to fix first` : '';
        write(outcome.applied ? `imported ${outcome.changes.length} object(s)` : `dry run: nothing stored${toFix}`);
      }
      if (errors.length > 0 || outcome.clusters.length > 0) process.exitCode = EXIT.failed;
    }));
}
