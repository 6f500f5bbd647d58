// Where the client verbs find their server and token: named contexts in one YAML file, like
// kubectl's. The file is METALFLEET_CONFIG, else $XDG_CONFIG_HOME/metalfleet/config.yaml, else
// ~/.config/metalfleet/config.yaml; it holds tokens, so it is written 0600 (its folder 0700), by a
// rename so that a reader never sees half a file. METALFLEET_SERVER, METALFLEET_TOKEN and
// METALFLEET_TENANT override the context's values (CI sets them from secrets and keeps no file).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError } from './output.ts';

export interface Context {
  name: string;
  server: string;
  token: string;
  /** The tenant the tenant-scoped verbs act on unless --tenant says otherwise. */
  tenant?: string | undefined;
}

export interface ContextFile {
  currentContext: string | null;
  contexts: Context[];
}

/** The config file's path (METALFLEET_CONFIG, XDG_CONFIG_HOME, then ~/.config). */
export function contextFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.METALFLEET_CONFIG) return env.METALFLEET_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'metalfleet', 'config.yaml');
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The file's contexts; a missing file is an empty one, a malformed one an error naming it. */
export function readContextFile(path = contextFilePath()): ContextFile {
  if (!existsSync(path)) return { currentContext: null, contexts: [] };
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`${path} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return { currentContext: null, contexts: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new CliError(`${path}: expected a mapping with current-context and contexts`);
  const record = raw as Record<string, unknown>;
  const list = Array.isArray(record.contexts) ? record.contexts : [];
  const contexts: Context[] = [];
  for (const [i, entry] of list.entries()) {
    const item = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = text(item.name);
    const server = text(item.server);
    const token = text(item.token);
    if (!name || !server || !token) throw new CliError(`${path}: contexts[${i}] needs name, server and token`);
    contexts.push({ name, server, token, tenant: text(item.tenant) });
  }
  return { currentContext: text(record['current-context']) ?? null, contexts };
}

/** Writes the file 0600 through a temporary file and a rename. */
export function writeContextFile(file: ContextFile, path = contextFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const document = {
    'current-context': file.currentContext,
    contexts: file.contexts.map((c) => ({ name: c.name, server: c.server, token: c.token, ...(c.tenant ? { tenant: c.tenant } : {}) })),
  };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(document), { mode: 0o600 });
  chmodSync(temporary, 0o600); // the umask may have narrowed the mode; never widened it
  renameSync(temporary, path);
}

/** Adds or replaces a context and makes it the current one. */
export function saveContext(context: Context, path = contextFilePath()): void {
  const file = readContextFile(path);
  const contexts = file.contexts.filter((c) => c.name !== context.name);
  contexts.push(context);
  contexts.sort((a, b) => a.name.localeCompare(b.name));
  writeContextFile({ currentContext: context.name, contexts }, path);
}

/** Makes an existing context the current one. */
export function useContext(name: string, path = contextFilePath()): Context {
  const file = readContextFile(path);
  const context = file.contexts.find((c) => c.name === name);
  if (!context) {
    const known = file.contexts.map((c) => c.name);
    throw new CliError(`no context named ${name} in ${path}${known.length ? ` (there are: ${known.join(', ')})` : ': metalfleet login first'}`);
  }
  writeContextFile({ ...file, currentContext: name }, path);
  return context;
}

/** What a client verb talks to: the server, the token and the default tenant. */
export interface Target {
  server: string;
  token: string;
  tenant: string | undefined;
  /** Which context supplied it, for messages (undefined: the environment alone). */
  context: string | undefined;
}

/**
 * The server and token of the context named (or the current one), each overridden by its
 * environment variable; an error that says what to do when neither gives both.
 */
export function resolveTarget(options: { context?: string | undefined; tenant?: string | undefined }, env: NodeJS.ProcessEnv = process.env): Target {
  const path = contextFilePath(env);
  const file = readContextFile(path);
  const name = options.context ?? file.currentContext ?? undefined;
  const context = name ? file.contexts.find((c) => c.name === name) : undefined;
  if (options.context && !context) throw new CliError(`no context named ${options.context} in ${path}`);
  const server = env.METALFLEET_SERVER || context?.server;
  const token = env.METALFLEET_TOKEN || context?.token;
  if (!server || !token) {
    const missing = server ? 'token' : 'server';
    throw new CliError(`no ${missing}: run \`metalfleet login SERVER --token-file FILE\` (or set METALFLEET_SERVER and METALFLEET_TOKEN)`);
  }
  return { server, token, tenant: options.tenant || env.METALFLEET_TENANT || context?.tenant, context: context?.name };
}
