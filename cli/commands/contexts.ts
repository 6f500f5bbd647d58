// `metalfleet contexts`: the saved contexts, the current one marked; never their tokens.
import { Option, type Command } from 'commander';
import { contextFilePath, readContextFile } from '../contexts.ts';
import { printRows, runReporting } from '../output.ts';
import { CLIENT_HELP } from './help.ts';

export function registerContextsCommand(root: Command): void {
  root.command('contexts').description('list the saved contexts (* marks the current one); tokens are never shown')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml', 'markdown']).default('table'))
    .addHelpText('after', CLIENT_HELP)
    .action((opts: { output: 'table' | 'json' | 'yaml' | 'markdown' }) => runReporting(async () => {
      const file = readContextFile(contextFilePath());
      const rows = file.contexts.map((c) => ({ current: c.name === file.currentContext, name: c.name, server: c.server, tenant: c.tenant ?? null }));
      printRows(rows, [
        { header: 'current', value: (r) => (r.current ? '*' : '') }, { header: 'name', value: (r) => r.name },
        { header: 'server', value: (r) => r.server }, { header: 'tenant', value: (r) => r.tenant },
      ], opts.output);
    }));
}
