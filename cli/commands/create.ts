// `metalfleet create KIND [FIELD=VALUE…] [-f FILE|-]`: what a platform admin sets up before a tenant
// manages its own intent: the tenant, its address grants, its peer policy (replaced as a whole)
// and API tokens. Values are YAML (`allowedASNs='[{from: 64512, to: 65534}]'`); everything a tenant
// owns beyond that is its intent document (metalfleet apply).
import type { Command } from 'commander';
import { parse } from 'yaml';
import type { components } from '../api-types.ts';
import { readDocumentText } from '../intent-view.ts';
import { printData, runReporting, usageError, write } from '../output.ts';
import { clientOptions, connect, ok, type ClientOptions, type Remote } from '../remote.ts';
import { CLIENT_HELP } from './help.ts';

type S = components['schemas'];
type Body = Record<string, unknown>;

/** What each kind's creation sends, and the line it prints (tokens: the token itself, shown once). */
const CREATORS: Record<string, (remote: Remote, body: Body) => Promise<{ data: unknown; line: string }>> = {
  async tenants(r, body) {
    const data = await ok(r.api.POST('/v1/tenants', { body: body as S['TenantInput'] }));
    return { data, line: `tenant ${data.slug} created` };
  },
  async grants(r, body) {
    const data = await ok(r.api.POST('/v1/tenants/{tenant}/grants', { params: { path: { tenant: r.tenant() } }, body: body as S['GrantInput'] }));
    return { data, line: `grant ${data.cidr} created (id ${data.id})` };
  },
  async policy(r, body) {
    const data = await ok(r.api.PUT('/v1/tenants/{tenant}/policy', { params: { path: { tenant: r.tenant() } }, body: body as S['TenantPolicy'] }));
    return { data, line: `policy of tenant ${r.tenant()} replaced` };
  },
  async tokens(r, body) {
    const data = await ok(r.api.POST('/v1/tokens', { body: body as S['TokenInput'] }));
    return { data, line: data.token };
  },
};
const ALIASES: Record<string, string> = { tenant: 'tenants', grant: 'grants', policies: 'policy', token: 'tokens' };

/** `key=value` pairs as an object, each value read as YAML (numbers, booleans, lists, mappings). */
export function fieldsOf(pairs: readonly string[]): Body {
  const body: Body = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`${pair}: expected FIELD=VALUE`);
    const raw = pair.slice(at + 1);
    let value: unknown;
    try {
      value = parse(raw);
    } catch {
      value = raw;
    }
    body[pair.slice(0, at)] = value ?? raw;
  }
  return body;
}

export function registerCreateCommand(root: Command): void {
  clientOptions(root.command('create').description('create a tenant, grant or token, or replace a tenant\'s policy')
    .argument('<kind>', 'tenant, grant, policy or token')
    .argument('[fields...]', 'FIELD=VALUE pairs of the API\'s body, e.g. slug=acme name="ACME Corp"')
    .option('-f, --filename <file>', 'the body as YAML or JSON (- for stdin); FIELD=VALUE pairs override it'), { formats: ['table', 'json', 'yaml'] })
    .addHelpText('after', `
Examples:
  metalfleet create tenant slug=acme name="ACME Corp"
  metalfleet create grant cidr=203.0.113.0/24 --tenant acme
  metalfleet create policy allowedASNs='[{from: 64512, to: 65534}]' allowedPeerCIDRs='[192.0.2.0/24]' --tenant acme
  metalfleet create token name=ci role=tenant-admin tenant=acme ttl=30d     # prints the token, once
${CLIENT_HELP}`)
    .action((kindName: string, fields: string[], opts: ClientOptions & { filename?: string }) => runReporting(async () => {
      const kind = ALIASES[kindName.toLowerCase()] ?? kindName.toLowerCase();
      const creator = CREATORS[kind];
      if (!creator) throw usageError(`cannot create ${kindName}: one of tenant, grant, policy, token (the rest is the intent: metalfleet apply)`);
      let body: Body = {};
      if (opts.filename) {
        const { text, source } = readDocumentText(opts.filename);
        const parsed: unknown = parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError(`${source}: expected a mapping`);
        body = parsed as Body;
      }
      const remote = connect(opts);
      const { data, line } = await creator(remote, { ...body, ...fieldsOf(fields) });
      if (remote.format === 'table') write(line);
      else printData(data, remote.format === 'json' ? 'json' : 'yaml');
    }));
}
