// `metalfleet rollout status|pause|resume|abort|promote`: a tenant's staged rollouts (api/rollouts.ts)
// through the typed client. The server, token and tenant come from --server/--tenant or
// METALFLEET_SERVER, METALFLEET_TOKEN and METALFLEET_TENANT (as the other client verbs read them).
import { Option, type Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import type { components } from './api-types.ts';
import { ConfigError } from './config.ts';

type Rollout = components['schemas']['Rollout'];
const ACTIONS = ['pause', 'resume', 'abort', 'promote'] as const;
type Action = (typeof ACTIONS)[number];

interface Target { server?: string; tenant?: string; output: 'text' | 'json' }

// The client loads only when a rollout verb runs: the command tree is built for every command.
async function connect(opts: Target, env: NodeJS.ProcessEnv = process.env): Promise<{ api: ApiClient; tenant: string }> {
  const { createApiClient } = await import('./api-client.ts');
  const server = opts.server ?? env.METALFLEET_SERVER;
  const token = env.METALFLEET_TOKEN;
  const tenant = opts.tenant ?? env.METALFLEET_TENANT;
  if (!server || !token) throw new ConfigError('no server or token: set METALFLEET_SERVER (or --server) and METALFLEET_TOKEN');
  if (!tenant) throw new ConfigError('which tenant? give --tenant SLUG (or set METALFLEET_TENANT)');
  return { api: createApiClient({ baseUrl: server.replace(/\/+$/, ''), token }), tenant };
}

/** A rollout as a few lines people read: state, the reason it paused, per cluster its revision and the gates that are red. */
export function formatRollout(r: Rollout): string {
  const lines = [`rollout ${r.number}  ${r.state}${r.currentWave ? `  wave ${r.currentWave}` : ''}  ${r.cause}`];
  if (r.pausedReason) lines.push(`paused: ${r.pausedReason}`);
  const rows = [['WAVE', 'CLUSTER', 'STATE', 'SERVING', 'FROM', 'TO', 'APPLIED', 'GATES']];
  for (const wave of r.waves) {
    for (const c of wave.clusters) {
      const red = c.gates.filter((g) => !g.ok).map((g) => `${g.gate}: ${g.evidence}`);
      const gates = c.verdict === null ? '-' : red.length > 0 ? red.join('; ') : c.verdict;
      rows.push([wave.name, c.cluster, c.state, c.serving, String(c.fromRevision ?? '-'), String(c.toRevision), String(c.appliedRevision ?? '-'), gates]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  return `${lines.join('\n')}\n`;
}

/** `status [number]`: that rollout, or the newest one (an unfinished one first). */
export async function rolloutStatus(api: ApiClient, tenant: string, number: number | undefined): Promise<Rollout> {
  let n = number;
  if (n === undefined) {
    const { data } = await api.GET('/v1/tenants/{tenant}/rollouts', { params: { path: { tenant }, query: { limit: '50' } } });
    const items = data?.items ?? [];
    const chosen = items.find((r) => ['progressing', 'paused', 'queued'].includes(r.state)) ?? items[0];
    if (!chosen) throw new ConfigError(`tenant ${tenant} has no rollouts (without a rollout policy every change reaches its clusters at once)`);
    n = chosen.number;
  }
  const { data } = await api.GET('/v1/tenants/{tenant}/rollouts/{rollout}', { params: { path: { tenant, rollout: String(n) } } });
  return data!;
}

export async function actOnRollout(api: ApiClient, tenant: string, action: Action, number: number): Promise<Rollout> {
  const params = { params: { path: { tenant, rollout: String(number) } } };
  const paths = {
    pause: () => api.POST('/v1/tenants/{tenant}/rollouts/{rollout}/pause', params),
    resume: () => api.POST('/v1/tenants/{tenant}/rollouts/{rollout}/resume', params),
    abort: () => api.POST('/v1/tenants/{tenant}/rollouts/{rollout}/abort', params),
    promote: () => api.POST('/v1/tenants/{tenant}/rollouts/{rollout}/promote', params),
  } satisfies Record<Action, unknown>;
  const { data } = await paths[action]();
  return data!;
}

const rolloutNumber = (text: string): number => {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw Object.assign(new Error(`not a rollout number: ${JSON.stringify(text)}`), { name: 'UsageError' });
  return Number(text);
};

async function print(opts: Target, work: (api: ApiClient, tenant: string) => Promise<Rollout>): Promise<void> {
  const { api, tenant } = await connect(opts);
  const { ProblemError } = await import('./api-client.ts');
  try {
    const rollout = await work(api, tenant);
    process.stdout.write(opts.output === 'json' ? `${JSON.stringify(rollout, null, 2)}\n` : formatRollout(rollout));
  } catch (err) {
    // A refusal is one line and exit code 1 (e.g. "409 rollout-action-refused: rollout 2 is completed: …").
    if (!(err instanceof ProblemError)) throw err;
    throw new ConfigError(err.message);
  }
}

/** Adds `rollout` and its subcommands to the command tree (`leaf` gives each the tree's common help). */
export function addRolloutCommand(root: Command, leaf: (cmd: Command) => Command): void {
  const rollout = root.command('rollout').description("a tenant's staged rollouts (waves gated on BGP health; docs/rollouts.md)").exitOverride();
  const common = (cmd: Command) => leaf(cmd)
    .option('--server <url>', 'the API (default: METALFLEET_SERVER; the token is METALFLEET_TOKEN)')
    .option('--tenant <slug>', 'the tenant (default: METALFLEET_TENANT)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
  common(rollout.command('status').description('a rollout: state, waves, per cluster the revision it serves and its gates (default: the newest)'))
    .argument('[number]', 'the rollout number')
    .action(async (number: string | undefined, opts: Target) => print(opts, (api, tenant) => rolloutStatus(api, tenant, number === undefined ? undefined : rolloutNumber(number))));
  const describe: Record<Action, string> = {
    pause: 'stop a rollout advancing (nothing moves back)',
    resume: 'advance a paused rollout again (a wave its gates failed starts again)',
    abort: 'move every cluster the rollout reached back to its previous revision',
    promote: 'count the current wave as passed whatever its gates say and start the next',
  };
  for (const action of ACTIONS) {
    common(rollout.command(action).description(`${describe[action]} (tenant-admin)`))
      .argument('<number>', 'the rollout number')
      .action(async (number: string, opts: Target) => print(opts, (api, tenant) => actOnRollout(api, tenant, action, rolloutNumber(number))));
  }
}
