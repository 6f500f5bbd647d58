// The agent's own entry, bundled alone into dist/metalfleet-agent.mjs by `npm run build`: what runs
// beside every cluster's routers loads the agent's code and its few packages, and nothing of the
// API, the CLI, the TypeScript loader or (outside kubernetes mode, a chunk of its own) the
// Kubernetes client. `metalfleet agent` runs the same command through the CLI.
import { agentCommand } from './main.ts';

try {
  await agentCommand(process.argv.slice(2));
} catch (err) {
  // The exit codes of cli/main.ts: 2 a usage error, 1 a setup failure said in one line, else the stack.
  const { name, message } = err as Error;
  const code = (err as { code?: unknown }).code;
  const usage = name === 'UsageError' || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
  if (!usage && name !== 'ConfigError') throw err;
  process.stderr.write(`metalfleet agent: ${message}\n`);
  process.exitCode = usage ? 2 : 1;
}
