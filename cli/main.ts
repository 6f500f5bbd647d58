// The `metalfleet` command: a thin shell that wires the same pieces the Workers entry uses.
import { ConfigError } from './config.ts';

const USAGE = `usage: metalfleet <command>

commands:
  serve     run the API (embedded PGlite unless DATABASE_URL is set)
  migrate   apply database migrations to DATABASE_URL (or the embedded database)
  token create --role ROLE [--tenant SLUG] [--ttl 12h] [--subject NAME]
            mint an API token (roles: platform-admin, tenant-admin, tenant-viewer)
  keys generate
            print new METALFLEET_SIGNING_KEY and METALFLEET_SECRET_KEY values
  agent --url URL --mode frr|kubernetes [...]
            run the agent on a host or in a cluster (metalfleet agent --help)

environment:
  HOST, PORT                 listen address (default 127.0.0.1:8080)
  DATABASE_URL               PostgreSQL URL; unset: embedded PGlite in METALFLEET_DATA_DIR
  METALFLEET_DATA_DIR        embedded data and keys (default ./.metalfleet)
  METALFLEET_SECRET_KEY      32 bytes, base64: encrypts peer passwords (required with DATABASE_URL)
  METALFLEET_SIGNING_KEY     private Ed25519 JWK: signs tokens and configs (required with DATABASE_URL)
  METALFLEET_PUBLIC_URL      the URL clients and agents use (also the token issuer; default http://HOST:PORT)
  METALFLEET_OIDC_ISSUER, METALFLEET_OIDC_AUDIENCE, METALFLEET_OIDC_JWKS_URL
  METALFLEET_OIDC_ROLE_CLAIM, METALFLEET_OIDC_TENANT_CLAIM   optional external identity provider
`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve: async () => (await import('./serve.ts')).serveCommand(),
  migrate: async () => (await import('./migrate.ts')).migrateCommand(),
  token: async (args) => (await import('./token.ts')).tokenCommand(args),
  keys: async (args) => (await import('./keys.ts')).keysCommand(args),
  agent: async (args) => (await import('../agents/main.ts')).agentCommand(args),
};

export async function main(argv: string[]): Promise<void> {
  const [name] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`metalfleet: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    await command(argv.slice(1));
  } catch (err) {
    if (err instanceof ConfigError || (err as Error).name === 'UsageError' || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`metalfleet: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
