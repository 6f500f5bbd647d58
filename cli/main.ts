// The `metalfleet` command: a thin shell that wires the same pieces the Workers entry uses.
import { ConfigError } from './config.ts';

const USAGE = `usage: metalfleet <command>

commands:
  serve     run the API (embedded PGlite unless DATABASE_URL is set)
  migrate   apply database migrations to DATABASE_URL (or the embedded database)

environment:
  HOST, PORT                 listen address (default 127.0.0.1:8080)
  DATABASE_URL               PostgreSQL URL; unset: embedded PGlite in METALFLEET_DATA_DIR
  METALFLEET_DATA_DIR        embedded data and keys (default ./.metalfleet)
  METALFLEET_SECRET_KEY      32 bytes, base64: encrypts peer passwords (required with DATABASE_URL)
`;

const commands: Record<string, () => Promise<void>> = {
  serve: async () => (await import('./serve.ts')).serveCommand(),
  migrate: async () => (await import('./migrate.ts')).migrateCommand(),
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
    await command();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`metalfleet: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
