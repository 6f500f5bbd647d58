// `metalfleet delete KIND NAME`: deletes one object at once (no question asked: scripts call it;
// the name is required, so nothing is deleted by accident in bulk).
import type { Command } from 'commander';
import { KINDS, kindNamed } from '../kinds.ts';
import { runReporting, usageError, write } from '../output.ts';
import { clientOptions, connect, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

export function registerDeleteCommand(root: Command): void {
  clientOptions(root.command('delete').description('delete one object (tenants and clusters whose agents may announce withdraw first)')
    .argument('<kind>', KINDS.filter((k) => k.remove).map((k) => k.name).join(', ') + ' (singular works too)')
    .argument('<name>', 'the object (grants: id or CIDR; tokens: id or name; agents: id)')
    .option('--cluster <name>', 'the cluster (agents)')
    .option('--force', 'tenants and clusters: delete now instead of withdrawing first (see the API docs)'), { formats: ['table'] })
    .addHelpText('after', CLIENT_HELP)
    .action((kindName: string, name: string, opts: ClientOptions & { cluster?: string; force?: boolean }) => runReporting(async () => {
      const kind = kindNamed(kindName);
      if (!kind.remove) throw usageError(`${kind.name} cannot be deleted${kind.singleton ? `: replace it (metalfleet create ${kind.name} …)` : ''}`);
      write(await kind.remove(connect(opts), name, opts));
    }));
}
