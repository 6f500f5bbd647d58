// The client verbs (they talk to a running server through the typed client), registered in one
// call so that cli/main.ts stays a short list.
import type { Command } from 'commander';
import { registerApplyCommand } from './apply.ts';
import { registerConfigCommands } from './config.ts';
import { registerContextsCommand } from './contexts.ts';
import { registerCreateCommand } from './create.ts';
import { registerDeleteCommand } from './delete.ts';
import { registerDescribeCommand } from './describe.ts';
import { registerExportCommand } from './export.ts';
import { registerFleetCommand } from './fleet.ts';
import { registerGetCommand } from './get.ts';
import { registerImportCommand } from './import.ts';
import { registerLoginCommand } from './login.ts';
import { registerPlanCommand } from './plan.ts';
import { registerSessionsCommand } from './sessions.ts';
import { registerStatusCommand } from './status.ts';
import { registerUseContextCommand } from './use-context.ts';

export function registerClientCommands(root: Command): void {
  for (const register of [
    registerLoginCommand, registerUseContextCommand, registerContextsCommand,
    registerGetCommand, registerDescribeCommand, registerDeleteCommand, registerCreateCommand,
    registerPlanCommand, registerApplyCommand, registerExportCommand, registerImportCommand,
    registerConfigCommands, registerStatusCommand, registerSessionsCommand, registerFleetCommand,
  ]) register(root);
}
