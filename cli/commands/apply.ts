// `metalfleet apply -f FILE|- [--prune] [--if-match ETAG]`: applies an intent document in one
// transaction. The API takes it only if the intent is still the one the change was based on
// (If-Match): the ETag a reviewed plan printed (--if-match), else the one `metalfleet export` left in
// the file, else the intent as this command reads it first. A concurrent change is refused (412),
// never overwritten.
import type { Command } from 'commander';
import { planText, readIntentDocument } from '../intent-view.ts';
import { printData, runReporting, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

interface ApplyOptions extends ClientOptions { filename: string; prune?: boolean; ifMatch?: string }

export function registerApplyCommand(root: Command): void {
  clientOptions(root.command('apply').description('apply an intent document in one transaction (objects left out stay unless --prune)')
    .requiredOption('-f, --filename <file>', 'the intent document, YAML or JSON (- for stdin)')
    .option('--prune', 'delete the objects the document leaves out')
    .option('--if-match <etag>', 'apply only if the intent is still the one a plan showed (its ETag)'), { formats: ['table', 'json', 'yaml'] })
    .addHelpText('after', CLIENT_HELP)
    .action((opts: ApplyOptions) => runReporting(async () => {
      const document = readIntentDocument(opts.filename);
      const remote = connect(opts);
      const tenant = remote.tenant();
      let ifMatch = opts.ifMatch ?? document.etag;
      if (!ifMatch) {
        const { response } = await remote.api.GET('/v1/tenants/{tenant}/intent', { params: { path: { tenant }, query: {} } });
        ifMatch = response.headers.get('etag') ?? '*';
      }
      const outcome = await ok(remote.api.PUT('/v1/tenants/{tenant}/intent', {
        params: { path: { tenant }, query: opts.prune ? { prune: 'true' } : {}, header: { 'if-match': ifMatch } }, body: document.body,
      }));
      if (remote.format === 'json' || remote.format === 'yaml') printData(outcome, remote.format);
      else write(planText(outcome, { applied: true }));
    }));
}
