// `metalfleet plan -f FILE|- [--prune] [--detailed-exitcode]`: what applying a document would do,
// storing nothing: per cluster the new revision's diff (passwords redacted by the API) or why the
// cluster would refuse it, the object changes and the problems. `-o markdown` is a pull-request
// comment. Exit codes: 1 when the API would refuse the document; with --detailed-exitcode 3 when
// it changes something, 0 when it changes nothing.
import type { Command } from 'commander';
import { hasChanges, isRefused, planMarkdown, planText, readIntentDocument } from '../intent-view.ts';
import { EXIT, printData, runReporting, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

interface PlanOptions extends ClientOptions { filename: string; prune?: boolean; detailedExitcode?: boolean }

export function registerPlanCommand(root: Command): void {
  clientOptions(root.command('plan').description("show what applying an intent document would change, per cluster (stores nothing)")
    .requiredOption('-f, --filename <file>', 'the intent document, YAML or JSON (- for stdin)')
    .option('--prune', 'also plan deleting the objects the document leaves out')
    .option('--detailed-exitcode', 'exit 3 when the plan changes something (0: no changes, 1: refused or failed)'))
    .addHelpText('after', CLIENT_HELP)
    .action((opts: PlanOptions) => runReporting(async () => {
      const document = readIntentDocument(opts.filename);
      const remote = connect(opts);
      const tenant = remote.tenant();
      const outcome = await ok(remote.api.POST('/v1/tenants/{tenant}/intent/plan', {
        params: { path: { tenant }, query: opts.prune ? { prune: 'true' } : {} }, body: document.body,
      }));
      const source = opts.filename === '-' ? 'FILE' : opts.filename;
      const applyHint = `To apply exactly this plan: metalfleet apply -f ${source}${opts.prune ? ' --prune' : ''} --if-match '${outcome.etag}'`;
      if (remote.format === 'json' || remote.format === 'yaml') printData(outcome, remote.format);
      else if (remote.format === 'markdown') write(planMarkdown(outcome, { tenant, applyHint }));
      else write(planText(outcome, { applyHint }));
      if (isRefused(outcome)) process.exitCode = EXIT.failed;
      else if (opts.detailedExitcode && hasChanges(outcome)) process.exitCode = EXIT.changes;
    }));
}
