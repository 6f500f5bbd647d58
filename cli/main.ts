// The `metalfleet` command: a thin shell that wires the same pieces the Workers entry uses. Parsed
// with commander (the most used Node argument parser: subcommands, generated help, --version,
// unknown options refused with the closest match). `--help` on any command prints and acts on
// nothing. Exit codes: 0 done, 1 failed (a one-line message on stderr), 2 usage error, 3 a plan with
// changes (`plan --detailed-exitcode`). The client verbs live in cli/commands/ (one file per verb).
import { Command, CommanderError, Option } from 'commander';
import { registerClientCommands } from './commands/index.ts';
import { ConfigError } from './config.ts';
import { addRolloutCommand } from './rollout.ts';
import { VERSION } from './version.ts';

/** The environment the server and the database commands read, for every command's help. */
export const ENVIRONMENT = `
Environment:
  HOST, PORT                 listen address (default 127.0.0.1:8080)
  DATABASE_URL               PostgreSQL URL; unset: embedded PGlite in METALFLEET_DATA_DIR
  METALFLEET_LISTEN_DATABASE_URL  a direct PostgreSQL URL for LISTEN when DATABASE_URL is a transaction pooler
  METALFLEET_DATA_DIR        embedded data, generated keys, the bootstrap token (default ./.metalfleet)
  METALFLEET_SECRET_KEY      32 bytes, base64: encrypts peer passwords (required with DATABASE_URL)
  METALFLEET_SECRET_KEY_PREVIOUS  older secret keys (comma-separated): open what they sealed, never seal (rotation)
  METALFLEET_SIGNING_KEY     private Ed25519 JWK: signs configs (required with DATABASE_URL)
  METALFLEET_SIGNING_KEYS_PREVIOUS  older signing keys (a JWK or JSON array): published in the JWKS, never sign (rotation)
  METALFLEET_PUBLIC_URL      the URL clients and agents use (default http(s)://HOST:PORT)
  METALFLEET_TLS_CERT, METALFLEET_TLS_KEY   PEM files: serve HTTPS (reloaded when they change)
  METALFLEET_LOG_LEVEL       fatal, error, warn, info (default), debug, trace: JSON lines on stdout
  METALFLEET_TOKEN_MAX_TTL   the longest lifetime of an API token (default 90d)
  METALFLEET_POLL_INTERVAL   seconds agents are told to poll at (default 30)
  METALFLEET_REVISIONS_KEPT  revisions each cluster keeps (default 100)
  METALFLEET_VERIFY_SAMPLE   clusters each hourly maintenance run checks against their intent (default 200; 0: none)
  METALFLEET_METRICS_LISTEN  HOST:PORT for Prometheus /metrics (default: off)
  METALFLEET_SHUTDOWN_DELAY  seconds /readyz answers 503 after SIGTERM before the listener closes (default 0)
  METALFLEET_SHUTDOWN_TIMEOUT  seconds requests in flight may take after SIGTERM (default 10)
  METALFLEET_OIDC_ISSUER, METALFLEET_OIDC_AUDIENCE, METALFLEET_OIDC_JWKS_URL,
  METALFLEET_OIDC_ROLE_CLAIM, METALFLEET_OIDC_TENANT_CLAIM   optional identity provider for people
  METALFLEET_OIDC_CLIENT_ID, METALFLEET_OIDC_CLIENT_SECRET, METALFLEET_OIDC_SCOPES
                             the console's "Sign in with" the provider (code flow with PKCE; no secret: a public client)

Exit codes: 0 done, 1 failed, 2 usage error, 3 a plan with changes (plan --detailed-exitcode).
`;

/** The command tree; `run` receives each command's work so that tests can build it without acting. */
export function program(): Command {
  const root = new Command('metalfleet')
    .description('Control plane for BGP load-balancing (MetalLB native/FRR/frr-k8s, host FRR) across many clusters')
    .version(VERSION, '-V, --version', 'print the version')
    .helpCommand(true)
    .showSuggestionAfterError(true)
    .showHelpAfterError('(metalfleet --help: usage, commands and environment)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .addHelpText('after', ENVIRONMENT);
  const leaf = (cmd: Command) => cmd.exitOverride().showSuggestionAfterError(true)
    .showHelpAfterError(`(metalfleet ${cmd.parent?.parent ? `${cmd.parent.name()} ` : ''}${cmd.name()} --help: usage)`).addHelpText('after', ENVIRONMENT);

  leaf(root.command('serve').description('run the API and its maintenance job (embedded PGlite unless DATABASE_URL is set)'))
    .action(async () => (await import('./serve.ts')).serveCommand());
  leaf(root.command('migrate').description('apply database migrations to DATABASE_URL (or the embedded database); run it from one deploy step'))
    .action(async () => (await import('./migrate.ts')).migrateCommand());
  leaf(root.command('verify').description("check every cluster's desired config against the render of its intent; repair those that differ (exit 1 when any did)"))
    .option('--no-repair', 'report only')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { repair: boolean; json?: boolean }) => (await import('./verify.ts')).verifyCommand({ repair: opts.repair, json: opts.json ?? false }));

  leaf(root.command('demo').description('a throw-away control plane with demo tenants, agents and the web console (Ctrl-C removes it all)')).option('--host <host>', 'listen address', '127.0.0.1').option('--port <port>', 'listen port', '8080').action(async (opts: { host: string; port: string }) => (await import('./demo.ts')).demoCommand(opts));
  const token = root.command('token').description('API tokens').exitOverride();
  leaf(token.command('create').description('issue an API token straight into the database: the first platform-admin token of a deployment (afterwards: POST /v1/tokens)'))
    .addOption(new Option('--role <role>', 'the role').choices(['platform-admin', 'tenant-admin', 'tenant-viewer']).makeOptionMandatory())
    .option('--tenant <slug>', 'the tenant (tenant roles only)')
    .option('--ttl <ttl>', 'lifetime, e.g. 12h or 30d (default and maximum: METALFLEET_TOKEN_MAX_TTL)')
    .option('--name <name>', 'what the audit trail calls its holder')
    .action(async (opts: { role: string; tenant?: string; ttl?: string; name?: string }) => (await import('./token.ts')).tokenCommand(opts));

  const keys = root.command('keys').description('server keys').exitOverride();
  leaf(keys.command('generate').description('print new METALFLEET_SIGNING_KEY and METALFLEET_SECRET_KEY values'))
    .action(async () => (await import('./keys.ts')).keysCommand());
  leaf(keys.command('resign').description('re-sign every stored revision not signed by METALFLEET_SIGNING_KEY (key rotation; exit 1 when some remain)'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => (await import('./keys.ts')).keysResignCommand({ json: opts.json ?? false }));
  const secrets = root.command('secrets').description('secrets at rest').exitOverride();
  leaf(secrets.command('reseal').description('seal every stored secret again under METALFLEET_SECRET_KEY (key rotation; exit 1 while other keys remain)'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => (await import('./secrets.ts')).secretsResealCommand({ json: opts.json ?? false }));

  registerClientCommands(root);
  addRolloutCommand(root, leaf);

  // The agent keeps its own option parser (strict: unknown options refused) and help.
  root.command('agent').description('run the agent on a host or in a cluster (metalfleet agent --help)')
    .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[options...]')
    .action(async (args: string[]) => (await import('../agents/main.ts')).agentCommand(args));
  return root;
}

/** Runs the command line; sets process.exitCode (0, 1 or 2) instead of exiting. */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; everything else commander refuses is a usage error.
      process.exitCode = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code) ? 0 : 2;
      return;
    }
    const name = (err as Error).name;
    if (err instanceof ConfigError || name === 'ConfigError' || name === 'UsageError' || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`metalfleet: ${(err as Error).message}\n`);
      process.exitCode = (err as Error).name === 'UsageError' || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
      return;
    }
    throw err;
  }
}
