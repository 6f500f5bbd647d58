// The options every client verb shares (--context, --tenant, -o) and the typed API client they
// talk through, built from the context (cli/contexts.ts) and the environment.
import { Option, type Command } from 'commander';
import { createApiClient, type ApiClient } from './api-client.ts';
import { resolveTarget, type Target } from './contexts.ts';
import { FORMATS, usageError, type Format } from './output.ts';

export interface ClientOptions {
  context?: string;
  tenant?: string;
  output: Format;
}

/** Adds --context, --tenant (unless the verb has no tenant) and -o with the formats the verb prints. */
export function clientOptions(cmd: Command, opts: { tenant?: boolean; formats?: readonly Format[]; default?: Format } = {}): Command {
  const formats = opts.formats ?? FORMATS;
  cmd.addOption(new Option('-o, --output <format>', 'output format').choices(formats).default(opts.default ?? formats[0]!));
  if (opts.tenant !== false) cmd.option('--tenant <slug>', "the tenant (default: the context's, or METALFLEET_TENANT)");
  return cmd.option('--context <name>', 'the context to use instead of the current one (metalfleet contexts)');
}

/** A connected verb: the client, what it talks to, and how to print. */
export interface Remote {
  api: ApiClient;
  target: Target;
  format: Format;
  /** The tenant slug, or a usage error saying how to give one. */
  tenant(): string;
}

export function connect(options: ClientOptions): Remote {
  const target = resolveTarget({ context: options.context, tenant: options.tenant });
  return {
    api: createApiClient({ baseUrl: target.server.replace(/\/+$/, ''), token: target.token }),
    target,
    format: options.output,
    tenant() {
      if (!target.tenant) throw usageError('which tenant? give --tenant SLUG (or log in with --tenant, or set METALFLEET_TENANT)');
      return target.tenant;
    },
  };
}

/** Every item of a paginated collection, following nextCursor. */
export async function allPages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  for (let cursor: string | undefined; ;) {
    const answer = await page(cursor);
    items.push(...answer.items);
    if (!answer.nextCursor) return items;
    cursor = answer.nextCursor;
  }
}

/** The body of a successful answer (errors were thrown by the client's middleware). */
export async function ok<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data, response } = await call;
  if (data === undefined) throw new Error(`${response.url}: the server answered ${response.status} without a body`);
  return data;
}

/** Query parameters of one page of a collection. */
export const page = (cursor: string | undefined) => ({ limit: '500', ...(cursor ? { cursor } : {}) });
