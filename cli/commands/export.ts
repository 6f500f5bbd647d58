// `metalfleet export [-o yaml|json]`: the tenant's whole intent as a document `apply` takes back.
// The YAML starts with a comment holding the intent's ETag, which `apply` sends as If-Match: edit
// the export, apply it, and a change someone made meanwhile is refused instead of overwritten.
import type { Command } from 'commander';
import { ETAG_COMMENT } from '../intent-view.ts';
import { printData, runReporting, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

export function registerExportCommand(root: Command): void {
  clientOptions(root.command('export').description("print the tenant's whole intent as a document for plan and apply"), { formats: ['yaml', 'json'] })
    .addHelpText('after', CLIENT_HELP)
    .action((opts: ClientOptions) => runReporting(async () => {
      const remote = connect(opts);
      const call = remote.api.GET('/v1/tenants/{tenant}/intent', { params: { path: { tenant: remote.tenant() }, query: {} } });
      const document = await ok(call);
      const etag = (await call).response.headers.get('etag');
      if (remote.format === 'yaml' && etag) {
        write(`# ${ETAG_COMMENT} ${etag}\n# (metalfleet apply sends it as If-Match: a change made since is refused, not overwritten)`);
      }
      printData(document, remote.format === 'json' ? 'json' : 'yaml');
    }));
}
