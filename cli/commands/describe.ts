// `metalfleet describe KIND NAME`: one object in full (YAML unless -o json).
import type { Command } from 'commander';
import { KINDS, kindNamed } from '../kinds.ts';
import { printData, runReporting, usageError } from '../output.ts';
import { clientOptions, connect, type ClientOptions } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

export function registerDescribeCommand(root: Command): void {
  clientOptions(root.command('describe').description('show one object in full, every field the API has')
    .argument('<kind>', KINDS.map((k) => k.name).join(', ') + ' (singular works too)')
    .argument('[name]', 'the object (not for policy)')
    .option('--cluster <name>', 'the cluster (agents)'), { formats: ['yaml', 'json'] })
    .addHelpText('after', CLIENT_HELP)
    .action((kindName: string, name: string | undefined, opts: ClientOptions & { cluster?: string }) => runReporting(async () => {
      const kind = kindNamed(kindName);
      if (name === undefined && !kind.singleton) throw usageError(`describe ${kind.name} needs a name (metalfleet get ${kind.name} lists them)`);
      const remote = connect(opts);
      const item = await kind.get(remote, name ?? '', opts);
      printData(item, remote.format === 'json' ? 'json' : 'yaml');
    }));
}
