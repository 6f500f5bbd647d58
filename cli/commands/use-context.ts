// `metalfleet use-context NAME`: makes a saved context the current one.
import type { Command } from 'commander';
import { contextFilePath, useContext } from '../contexts.ts';
import { runReporting, write } from '../output.ts';
import { CLIENT_HELP } from './help.ts';

export function registerUseContextCommand(root: Command): void {
  root.command('use-context').description('make a saved context (metalfleet contexts) the current one')
    .argument('<name>', 'the context')
    .addHelpText('after', CLIENT_HELP)
    .action((name: string) => runReporting(async () => {
      const context = useContext(name, contextFilePath());
      write(`switched to context ${context.name} (${context.server}${context.tenant ? `, tenant ${context.tenant}` : ''})`);
    }));
}
