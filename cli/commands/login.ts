// `metalfleet login [SERVER] --token-file FILE|- [--name CONTEXT] [--tenant SLUG]`: checks the token
// against the server, then saves server, token and default tenant as a context and makes it the
// current one (cli/contexts.ts).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createApiClient } from '../api-client.ts';
import { contextFilePath, saveContext } from '../contexts.ts';
import { CliError, runReporting, usageError, write } from '../output.ts';
import { ok } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

interface LoginOptions { token?: string; tokenFile?: string; name?: string; tenant?: string }

export function registerLoginCommand(root: Command): void {
  root.command('login').description('check a token against a server and save both as the current context')
    .argument('[server]', 'the API URL (default: METALFLEET_SERVER, else http://127.0.0.1:8080)')
    .option('--token-file <file>', 'read the token from a file, or - for stdin (keeps it out of the process list)')
    .option('--token <token>', 'the token itself (default: METALFLEET_TOKEN)')
    .option('--name <context>', 'the context name (default: the server host and port)')
    .option('--tenant <slug>', 'the tenant the tenant-scoped verbs act on by default')
    .addHelpText('after', CLIENT_HELP)
    .action((server: string | undefined, opts: LoginOptions) => runReporting(() => login(server, opts)));
}

async function login(serverArgument: string | undefined, opts: LoginOptions): Promise<void> {
  const server = (serverArgument ?? process.env.METALFLEET_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw usageError(`${server} is not a URL (e.g. https://metalfleet.example.net)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${server}: the server is an http:// or https:// URL`);
  if (opts.token && opts.tokenFile) throw usageError('give --token or --token-file, not both');
  const token = opts.tokenFile ? readToken(opts.tokenFile) : opts.token ?? process.env.METALFLEET_TOKEN;
  if (!token) throw usageError('which token? give --token-file FILE (or - for stdin), --token, or METALFLEET_TOKEN');
  // Any authenticated read proves the token: every role may list the tenants it sees.
  await ok(createApiClient({ baseUrl: server, token }).GET('/v1/tenants', { params: { query: { limit: '1' } } }));
  const name = opts.name ?? url.host;
  const path = contextFilePath();
  saveContext({ name, server, token, tenant: opts.tenant }, path);
  write(`logged in to ${server} as context ${name}${opts.tenant ? ` (tenant ${opts.tenant})` : ''}; saved in ${path}`);
}

function readToken(file: string): string {
  try {
    const token = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
    if (!token) throw new CliError(`${file === '-' ? 'stdin' : file} is empty`);
    return token;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read the token from ${file === '-' ? 'stdin' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
