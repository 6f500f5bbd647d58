// `metalfleet get KIND [NAME]`: a table of a kind's objects (or one of them); json and yaml print
// the objects as the API answers them.
import type { Command } from 'commander';
import { KINDS, kindNamed } from '../kinds.ts';
import { printRows, runReporting } from '../output.ts';
import { clientOptions, connect, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

export function registerGetCommand(root: Command): void {
  clientOptions(root.command('get').description('list objects of a kind, or show one as a row')
    .argument('<kind>', KINDS.map((k) => k.name).join(', ') + ' (singular works too)')
    .argument('[name]', 'one object (grants: id or CIDR; tokens and agents: id or name)')
    .option('--cluster <name>', 'the cluster (agents)'))
    .addHelpText('after', CLIENT_HELP)
    .action((kindName: string, name: string | undefined, opts: ClientOptions & { cluster?: string }) => runReporting(async () => {
      const kind = kindNamed(kindName);
      const remote = connect(opts);
      if (name === undefined || kind.singleton) {
        const items = await kind.list(remote, opts);
        printRows(items as never[], kind.columns, remote.format, kind.singleton ? items[0] : items);
      } else {
        const item = await kind.get(remote, name, opts);
        printRows([item] as never[], kind.columns, remote.format, item);
      }
    }));
}
