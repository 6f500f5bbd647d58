// Every client verb against a running server, as a user runs it: the happy path and one error path
// each; json and yaml outputs parse, tables keep their layout; plan shows per-cluster diffs with
// passwords redacted and --detailed-exitcode gives 3 only with changes; apply refuses to overwrite a
// change made since the plan or the export (If-Match).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { createApiClient } from '../../cli/api-client.ts';
import { startClientLab, type ClientLab } from '../helpers/client.ts';
import type { RunResult } from '../helpers/process.ts';

const ACME = readFileSync(new URL('../../examples/acme.yaml', import.meta.url), 'utf8');
/** The tour's one-pool change: web gets a second IPv4 block. */
const GROWN = ACME.replace('cidrs: [203.0.113.0/26,', 'cidrs: [203.0.113.0/26, 203.0.113.128/26,');

let lab: ClientLab;
const file = (name: string, text: string) => {
  const path = join(lab.dir, name);
  writeFileSync(path, text);
  return path;
};
const okRun = async (args: string[], stdin?: string): Promise<RunResult> => {
  const result = stdin === undefined ? await lab.run(args) : await lab.spawn(args, {}, stdin);
  assert.equal(result.code, 0, `metalfleet ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  assert.equal(result.stderr, '', `metalfleet ${args.join(' ')}`);
  return result;
};
const failRun = async (args: string[], code: number, stderr: RegExp): Promise<RunResult> => {
  const result = await lab.run(args);
  assert.equal(result.code, code, `metalfleet ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  assert.match(result.stderr, stderr, `metalfleet ${args.join(' ')}`);
  return result;
};

/** A table's rows as cells, checking the layout: every column starts where its header does. */
function tableRows(text: string): string[][] {
  const lines = text.trimEnd().split('\n');
  const header = lines[0]!;
  assert.match(header, /^[A-Z][A-Z-]*( {2,}[A-Z][A-Z-]*)*$/, `header: ${header}`);
  const starts = [...header.matchAll(/[A-Z][A-Z-]*/g)].map((m) => m.index);
  for (const line of lines.slice(1)) {
    for (const start of starts.slice(1)) assert.match(line.slice(start - 2, start + 1), /^ {2}\S$/, `column at ${start} of ${JSON.stringify(line)}`);
  }
  return lines.map((line) => line.split(/ {2,}/));
}

before(async () => {
  lab = await startClientLab();
  await okRun(['login', lab.server.url, '--token-file', join(lab.dir, 'data', 'admin.token'), '--tenant', 'acme']);
});
after(async () => { await lab?.close(); });

test('create: the tenant, its grants and policy and a token; an unknown kind is a usage error, a duplicate a conflict', async () => {
  assert.equal((await okRun(['create', 'tenant', 'slug=acme', 'name=ACME Corp'])).stdout, 'tenant acme created\n');
  assert.match((await okRun(['create', 'grant', 'cidr=203.0.113.0/24'])).stdout, /^grant 203\.0\.113\.0\/24 created \(id [0-9a-f-]{36}\)\n$/);
  await okRun(['create', 'grant', 'cidr=2001:db8:100::/48']);
  const policy = await okRun(['create', 'policy', 'allowedASNs=[{from: 64512, to: 65534}]', 'allowedPeerCIDRs=[192.0.2.0/24]', 'requireBFD=true', '-o', 'json']);
  assert.deepEqual(JSON.parse(policy.stdout).allowedASNs, [{ from: 64512, to: 65534 }]);
  const token = await okRun(['create', 'token', 'name=ci', 'role=tenant-viewer', 'tenant=acme', 'ttl=1d']);
  assert.match(token.stdout, /^mft_[0-9a-f]{32}_\S+\n$/);
  await failRun(['create', 'tenant', 'slug=acme', 'name=again'], 1, /^metalfleet: 409 \S+ /);
  await failRun(['create', 'pool', 'name=x'], 2, /cannot create pool: one of tenant, grant, policy, token/);
  await failRun(['create', 'grant', 'cidr'], 2, /cidr: expected FIELD=VALUE/);
});

test('apply -f examples/acme.yaml creates everything; applying it again changes nothing', async () => {
  const applied = await okRun(['apply', '-f', 'examples/acme.yaml']);
  assert.match(applied.stdout, /^cluster edge-ams1 \(frr\): new → r1$/m);
  assert.match(applied.stdout, /^cluster k8s-fra1 \(metallb-frr-k8s\): new → r1$/m);
  assert.match(applied.stdout, /^Applied: 10 created, 0 updated, 0 deleted; 2 cluster\(s\) got a new revision\.$/m);
  assert.equal((await okRun(['apply', '-f', '-'], ACME)).stdout, 'No changes: the intent already is this document.\n');
  // A document the API refuses: one line for the problem, one per field error.
  const refused = await failRun(['apply', '-f', file('bad-peer.yaml', ACME.replace('peerASN: 64600', 'peerASN: 174'))], 1,
    /^metalfleet: 422 intent-refused Intent refused: .+\nmetalfleet: {3}peers\/tor-fra1\/peerASN: .+ \[asn-not-allowed\]\n/);
  assert.equal(refused.stdout, '');
  await failRun(['apply', '-f', file('not-yaml.yaml', 'pools: [')], 2, /is not YAML or JSON/);
  await failRun(['apply', '-f', join(lab.dir, 'missing.yaml')], 1, /cannot read .*missing\.yaml: ENOENT/);
});

test('plan: a one-pool change as a per-cluster diff; --detailed-exitcode 3 only with changes; json, yaml, markdown', async () => {
  const none = await lab.run(['plan', '-f', 'examples/acme.yaml', '--detailed-exitcode']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, 'No changes: the intent already is this document.\n');

  const grown = file('grown.yaml', GROWN);
  const plan = await lab.spawn(['plan', '-f', grown, '--detailed-exitcode'], { NO_COLOR: '' });
  assert.equal(plan.code, 3, plan.stderr);
  assert.match(plan.stdout, /^cluster edge-ams1 \(frr\): r1 → r2\n--- edge-ams1@r1\n\+\+\+ edge-ams1@r2\n@@ /m);
  assert.match(plan.stdout, /^\+ {4}network 203\.0\.113\.128\/26$/m, 'the host FRR gets the new network');
  assert.match(plan.stdout, /^cluster k8s-fra1 \(metallb-frr-k8s\): r1 → r2\n/m);
  assert.match(plan.stdout, /^\+ {4}- 203\.0\.113\.128\/26$/m, 'the IPAddressPool gets the new address');
  assert.match(plan.stdout, /^ {2}~ update pools\/web \(cidrs\)$/m);
  assert.match(plan.stdout, /^Plan: 0 to create, 1 to update, 0 to delete; 2 cluster\(s\) get a new revision\.$/m);
  assert.ok(!plan.stdout.includes('\x1b['), 'no colour when piped');
  assert.equal((await lab.run(['plan', '-f', grown])).code, 0, 'without --detailed-exitcode changes are no failure');

  const json = JSON.parse((await okRun(['plan', '-f', grown, '-o', 'json'])).stdout);
  assert.equal(json.applied, false);
  assert.deepEqual(json.changes, [{ kind: 'pools', name: 'web', action: 'update', fields: ['cidrs'] }]);
  assert.deepEqual(json.clusters.map((c: { cluster: string }) => c.cluster), ['edge-ams1', 'k8s-fra1']);
  assert.deepEqual(parse((await okRun(['plan', '-f', grown, '-o', 'yaml'])).stdout), json);
  const markdown = (await okRun(['plan', '-f', grown, '-o', 'markdown'])).stdout;
  assert.match(markdown, /^### metalfleet plan for tenant `acme`$/m);
  assert.match(markdown, /^\| update \| pools \| web \| cidrs \|$/m);
  assert.match(markdown, /<summary>cluster <code>edge-ams1<\/code> \(frr\): r1 → r2<\/summary>\n\n```diff\n--- edge-ams1@r1\n/);

  // Nothing was stored by any of these plans.
  assert.equal((await lab.run(['plan', '-f', 'examples/acme.yaml', '--detailed-exitcode'])).code, 0);
  // A refused plan fails even with changes: CI must not go green on it.
  const refused = await lab.spawn(['plan', '-f', file('bad.yaml', GROWN.replace('peerASN: 64600', 'peerASN: 174')), '--detailed-exitcode']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stdout, /^ {2}asn-not-allowed peers\/tor-fra1\/peerASN: /m);
  assert.match(refused.stdout, /^Refused: nothing can be applied \(1 problem\(s\), 0 cluster\(s\) that cannot take it\)\.$/m);
});

test('plan diffs never show a peer password; the refusal of a cluster names its codes and remedies', async () => {
  const secret = 'Sup3r-s3cret-pw';
  const withPassword = GROWN.replace('    holdTime: 90s\n', `    holdTime: 90s\n    password: ${secret}\n`);
  const plan = await lab.run(['plan', '-f', file('pw.yaml', withPassword), '-o', 'json']);
  assert.equal(plan.code, 0, plan.stderr);
  const outcome = JSON.parse(plan.stdout);
  assert.ok(outcome.changes.some((c: { name: string; fields?: string[] }) => c.name === 'tor-fra1' && c.fields?.includes('password')));
  const k8s = outcome.clusters.find((c: { cluster: string }) => c.cluster === 'k8s-fra1');
  assert.ok(k8s?.diff.includes('password'), 'the diff shows that a password is set');
  assert.ok(!plan.stdout.includes(secret), 'but never the password itself');

  const l2 = `${ACME}\nl2Advertisements:\n  - name: flat\n    ipAddressPools: [web]\n`;
  const refused = await lab.run(['plan', '-f', file('l2.yaml', l2)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^cluster edge-ams1 \(frr\) would refuse the result:\n {2}l2-unsupported-on-frr advertisements\/flat: .+\n {4}remedy: .+$/m);
});

test('apply sends If-Match: a change since the reviewed plan or the export is refused, not overwritten', async () => {
  const exported = await okRun(['export']);
  assert.match(exported.stdout, /^# metalfleet-etag: "[0-9a-f]{32}"$/m);
  assert.equal(parse(exported.stdout).kind, 'TenantIntent');
  assert.deepEqual(JSON.parse((await okRun(['export', '-o', 'json'])).stdout), parse(exported.stdout));
  const exportFile = file('export.yaml', exported.stdout);
  const planned = JSON.parse((await okRun(['plan', '-f', file('grown.yaml', GROWN), '-o', 'json'])).stdout);

  // Someone else changes the intent meanwhile.
  await okRun(['apply', '-f', file('community.yaml', ACME.replace('value: "65535:65281"', 'value: "65535:65282"'))]);
  await failRun(['apply', '-f', join(lab.dir, 'grown.yaml'), '--if-match', planned.etag], 1, /^metalfleet: 412 precondition-failed /);
  await failRun(['apply', '-f', exportFile], 1, /^metalfleet: 412 precondition-failed /);
  assert.match((await okRun(['get', 'community', 'no-export'])).stdout, /65535:65282/, 'their change stands');

  // With the current ETag the reviewed change goes in, as the plan said.
  const current = JSON.parse((await okRun(['plan', '-f', join(lab.dir, 'grown.yaml'), '-o', 'json'])).stdout);
  const applied = JSON.parse((await okRun(['apply', '-f', join(lab.dir, 'grown.yaml'), '--if-match', current.etag, '-o', 'json'])).stdout);
  assert.equal(applied.applied, true);
  assert.deepEqual(applied.changes, current.changes);
  assert.deepEqual(applied.clusters.map((c: { toRevision: number }) => c.toRevision), current.clusters.map((c: { toRevision: number }) => c.toRevision));
  // --prune deletes what the document leaves out.
  const pruned = await okRun(['plan', '-f', file('no-internal.yaml', GROWN.replace(/ {2}- name: internal-out[\s\S]*$/, '')), '--prune', '-o', 'json']);
  assert.deepEqual(JSON.parse(pruned.stdout).changes, [{ kind: 'bgpAdvertisements', name: 'internal-out', action: 'delete' }]);
});

test('get: every kind as a table of stable layout, as json and yaml that parse; one object; unknown names and kinds', async () => {
  const kinds = ['tenants', 'grants', 'policy', 'clusters', 'pools', 'peers', 'bfd-profiles', 'communities', 'bgp-advertisements', 'l2-advertisements', 'tokens'];
  for (const kind of kinds) {
    const [tableOut, jsonOut, yamlOut] = await Promise.all(['table', 'json', 'yaml'].map((o) => okRun(['get', kind, '-o', o])));
    const json = JSON.parse(jsonOut!.stdout);
    assert.deepEqual(parse(yamlOut!.stdout), json, kind);
    if (tableOut!.stdout === 'No resources found.\n') assert.deepEqual(json, [], kind);
    else assert.equal(tableRows(tableOut!.stdout).length - 1, Array.isArray(json) ? json.length : 1, kind);
  }
  assert.deepEqual(tableRows((await okRun(['get', 'pools'])).stdout), [
    ['NAME', 'CIDRS', 'AUTO-ASSIGN', 'CLUSTERS'],
    ['internal', '203.0.113.64/27', 'false', 'site=fra1'],
    ['web', '203.0.113.0/26,2001:db8:100::/64,203.0.113.128/26', 'true', '-'],
  ]);
  assert.deepEqual(tableRows((await okRun(['get', 'pool', 'web'])).stdout).map((r) => r[0]), ['NAME', 'web'], 'singular kinds work');
  assert.match((await okRun(['get', 'grant', '203.0.113.0/24'])).stdout, /^[0-9a-f-]{36} {2}203\.0\.113\.0\/24 /m, 'a grant by its CIDR');
  assert.match((await okRun(['get', 'policy', '-o', 'markdown'])).stdout, /^\| asns \| peer-cidrs \|.*\n\|---\|/);
  await failRun(['get', 'pool', 'nope'], 1, /^metalfleet: 404 not-found Not found: pool "nope" was not found\n$/);
  await failRun(['get', 'widgets'], 2, /^metalfleet: unknown kind widgets: one of tenants, grants, policy, /);
  await failRun(['get', 'pools', '-o', 'xml'], 2, /argument 'xml' is invalid\. Allowed choices are table, json, yaml, markdown/);
  await failRun(['get', 'pools', '--tenant', 'globex'], 1, /^metalfleet: 404 /);
});

test('describe shows the whole object; delete needs the name, asks nothing, and says what the API refused', async () => {
  const peer = parse((await okRun(['describe', 'peer', 'tor-fra1'])).stdout);
  assert.equal(peer.peerAddress, '192.0.2.1');
  assert.equal(peer.bfdProfile, 'fast');
  assert.ok(!('password' in peer));
  assert.equal(JSON.parse((await okRun(['describe', 'cluster', 'k8s-fra1', '-o', 'json'])).stdout).backend, 'metallb-frr-k8s');
  await failRun(['describe', 'pools'], 2, /describe pools needs a name/);

  await failRun(['delete', 'pool', 'internal'], 1, /^metalfleet: 409 in-use /);
  await failRun(['delete', 'pool'], 2, /missing required argument 'name'/);
  await failRun(['delete', 'policy', 'x'], 2, /policy cannot be deleted/);
  assert.equal((await okRun(['delete', 'bgp-advertisement', 'internal-out'])).stdout, 'bgp-advertisement internal-out deleted\n');
  assert.equal((await okRun(['delete', 'pools', 'internal'])).stdout, 'pool internal deleted\n');
  assert.equal((await okRun(['delete', 'token', 'ci'])).stdout.replace(/\(.*\)/, '(id)'), 'token ci (id) revoked\n');
  const [, ci] = tableRows((await okRun(['get', 'token', 'ci'])).stdout);
  assert.deepEqual(ci?.slice(1, 4), ['ci', 'tenant-viewer', 'acme']);
  assert.match(ci?.[6] ?? '', /^\d{4}-\d\d-\d\d$/, 'revoked');
});

test('import MetalLB YAML (dry run, then stored); a second import of the same names is refused', async () => {
  const metallb = file('metallb.yaml', [
    'apiVersion: metallb.io/v1beta1', 'kind: IPAddressPool', 'metadata: { name: legacy, namespace: metallb-system }',
    'spec: { addresses: [203.0.113.192/28] }', '---',
    'apiVersion: metallb.io/v1beta1', 'kind: L2Advertisement', 'metadata: { name: legacy-l2, namespace: metallb-system }',
    'spec: { ipAddressPools: [legacy] }', '',
  ].join('\n'));
  const dry = await okRun(['import', '-f', metallb, '--dry-run', '--cluster-selector', 'site=fra1']);
  assert.deepEqual(tableRows(dry.stdout.split('\n').slice(0, 3).join('\n')), [
    ['ACTION', 'KIND', 'NAME'], ['would create', 'pools', 'legacy'], ['would create', 'l2-advertisements', 'legacy-l2']]);
  await failRun(['get', 'pool', 'legacy'], 1, /404/);
  assert.match((await okRun(['import', '-f', metallb, '--cluster-selector', 'site=fra1'])).stdout, /^imported 2 object\(s\)$/m);
  assert.match((await okRun(['get', 'pool', 'legacy'])).stdout, /203\.0\.113\.192\/28/);
  await failRun(['import', '-f', metallb, '--cluster-selector', 'site=fra1'], 1, /^metalfleet: 422 import-refused .+\nmetalfleet: {3}\S+: /);
});

test('config show, diff and rollback of a cluster', async () => {
  const show = await okRun(['config', 'show', 'edge-ams1']);
  assert.match(show.stdout, /^hostname edge-ams1$/m);
  assert.match(show.stdout, /^ {4}network 203\.0\.113\.128\/26$/m);
  const first = await okRun(['config', 'show', 'edge-ams1', '--revision', '1', '-o', 'json']);
  assert.equal(JSON.parse(first.stdout).revision, 1);
  assert.doesNotMatch(JSON.parse(first.stdout).content, /203\.0\.113\.128/);
  const desired = JSON.parse((await okRun(['describe', 'cluster', 'edge-ams1', '-o', 'json'])).stdout).desiredRevision;
  const diff = await okRun(['config', 'diff', 'edge-ams1']);
  assert.ok(diff.stdout.startsWith(`--- edge-ams1@r${desired - 1}\n+++ edge-ams1@r${desired}\n`), diff.stdout);
  assert.match(diff.stdout, /^\+ {4}network 203\.0\.113\.128\/26$/m, 'the last change grew pool web');
  assert.match((await okRun(['config', 'diff', 'edge-ams1', '--revision', '2', '--from', '1'])).stdout, /^-.*65535:65281/m);
  const rolled = await okRun(['config', 'rollback', 'edge-ams1', '--to', '1']);
  assert.equal(rolled.stdout, `cluster edge-ams1 now serves r${desired + 1} (the intent of r1) until the next change that affects it\n`);
  assert.doesNotMatch((await okRun(['config', 'show', 'edge-ams1'])).stdout, /203\.0\.113\.128/);
  await failRun(['config', 'show', 'nope'], 1, /^metalfleet: 404 /);
  await failRun(['config', 'rollback', 'edge-ams1', '--to', 'latest'], 2, /--to latest: a revision number/);
  await failRun(['config', 'rollback', 'edge-ams1', '--to', '99'], 1, /^metalfleet: 404 /);
});

test('status, sessions, agents and fleet once an agent has reported', async () => {
  const before = tableRows((await okRun(['status'])).stdout);
  assert.deepEqual(before.map((r) => r.slice(0, 3)), [['CLUSTER', 'BACKEND', 'SYNC'], ['edge-ams1', 'frr', 'never-seen'], ['k8s-fra1', 'metallb-frr-k8s', 'never-seen']]);
  assert.equal((await okRun(['sessions', 'k8s-fra1'])).stdout, 'No resources found.\n');

  const api = createApiClient({ baseUrl: lab.server.url, token: lab.adminToken });
  const { data: enrollment } = await api.POST('/v1/tenants/{tenant}/clusters/{name}/enrollment-tokens', {
    params: { path: { tenant: 'acme', name: 'k8s-fra1' } }, body: {},
  });
  const agent = new AgentClient({ baseUrl: lab.server.url });
  const identity = await agent.enroll(enrollment!.token, {
    privateJwk: await generateAgentKey(), agentVersion: 'cli-test', capabilities: { frrVersion: '8.4.4', nodes: [{ name: 'node-a', labels: {} }] },
  });
  const polled = await agent.fetchConfig();
  assert.equal(polled.status, 200);
  await agent.reportStatus({
    appliedRevision: polled.status === 200 ? polled.config.revision : null, applyError: null, agentVersion: 'cli-test',
    capabilities: { frrVersion: '8.4.4', nodes: [{ name: 'node-a', labels: {} }] },
    sessions: [{ node: 'node-a', peer: '192.0.2.1', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 60, prefixesReceived: 0, prefixesSent: 2 }],
  });

  const one = parse((await okRun(['status', 'k8s-fra1', '-o', 'yaml'])).stdout);
  assert.equal(one.syncState, 'in-sync');
  const sessions = tableRows((await okRun(['sessions', 'k8s-fra1'])).stdout);
  assert.deepEqual(sessions[0], ['NODE', 'PEER', 'VRF', 'BGP', 'BFD', 'UPTIME', 'RECEIVED', 'SENT', 'LAST-RESET']);
  assert.deepEqual(sessions.slice(1).map((r) => r.filter((_, i) => i !== 5)), [['node-a', '192.0.2.1', '-', 'Established', 'up', '0', '2', '-']]);
  assert.match(sessions[1]![5]!, /^\d+s$/, 'uptime as the server ages it');
  const fleet = tableRows((await okRun(['fleet'])).stdout);
  assert.deepEqual(fleet[0], ['TENANT', 'CLUSTERS', 'BY-STATE', 'SESSIONS', 'BY-BGP-STATE']);
  assert.deepEqual(fleet.find((r) => r[0] === 'acme')?.slice(1), ['2', 'in-sync=1,never-seen=1', '1', 'Established=1']);
  assert.deepEqual(JSON.parse((await okRun(['fleet', '-o', 'json'])).stdout).tenants.map((t: { tenant: string }) => t.tenant), ['acme']);
  await failRun(['sessions', 'nope'], 1, /^metalfleet: 404 /);
  await failRun(['status', 'nope'], 1, /^metalfleet: 404 /);

  const agents = JSON.parse((await okRun(['get', 'agents', '--cluster', 'k8s-fra1', '-o', 'json'])).stdout);
  assert.deepEqual(agents.map((a: { id: string }) => a.id), [identity.agentId]);
  await failRun(['get', 'agents'], 2, /agents belong to a cluster: give --cluster NAME/);
  assert.equal((await okRun(['describe', 'agent', identity.agentId, '--cluster', 'k8s-fra1', '-o', 'json'])).stdout.includes('cli-test'), true);
  assert.match((await okRun(['delete', 'agent', identity.agentId, '--cluster', 'k8s-fra1'])).stdout, /^agent \S+ of cluster k8s-fra1 revoked$/m);
  await assert.rejects(agent.fetchConfig(), /401/);
});
