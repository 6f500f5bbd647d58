// The deployment files against the code they deploy: the Helm chart's RBAC stays limited to what
// the agent touches, and every agent flag the chart and the systemd unit pass is one the agent
// takes (there is no helm binary here, so the chart's simple templating is rendered by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { AGENT_USAGE } from '../agents/main.ts';
import { MANAGED_KINDS } from '../agents/kubernetes.ts';

const root = new URL('../', import.meta.url);
const chart = new URL('deploy/helm/metalfleet-agent/', root);
const values = parse(readFileSync(new URL('values.yaml', chart), 'utf8')) as Record<string, any>;

/** Enough of Helm for these templates: values, release fields, and dropping the control lines. */
function renderTemplate(text: string): string {
  const lookup = (path: string) => path.split('.').filter(Boolean).reduce((v: any, k) => v?.[k], { Values: { ...values, metallbVersion: '0.16.1', audience: 'https://cp' }, Release: { Name: 'mf', Namespace: 'metalfleet-system' } });
  return text.split('\n')
    .filter((line) => !/^\s*\{\{-? *(if|with|end|else)\b.*\}\}\s*$/.test(line) && !/\{\{-? *toYaml/.test(line))
    .map((line) => line.replace(/\{\{-? *\.([A-Za-z.]+) *-?\}\}/g, (_, path) => String(lookup(path))))
    .join('\n');
}

const rendered = readdirSync(new URL('templates/', chart)).flatMap((file) =>
  parseAllDocuments(renderTemplate(readFileSync(new URL(`templates/${file}`, chart), 'utf8'))).map((d) => d.toJS()).filter(Boolean));

const agentFlags = new Set([...AGENT_USAGE.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));

test('the chart renders to valid objects: service account, roles and bindings, a deployment', () => {
  const kinds = rendered.map((o: { kind: string }) => o.kind).sort();
  assert.deepEqual(kinds, ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount']);
});

test('RBAC: the MetalLB and frr-k8s kinds it manages, its own identity Secret, and read-only nodes; nothing else', () => {
  const managed = new Set(MANAGED_KINDS.map((k) => `${k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : ''}/${k.kind.toLowerCase()}`));
  const plural = (r: string) => r.replace(/ies$/, 'y').replace(/s$/, '');
  for (const role of rendered.filter((o: any) => o.kind === 'Role' || o.kind === 'ClusterRole') as any[]) {
    for (const rule of role.rules) {
      for (const group of rule.apiGroups) {
        assert.ok(['', 'metallb.io', 'frrk8s.metallb.io'].includes(group), `${role.metadata.name}: apiGroup ${group}`);
        for (const resource of rule.resources) {
          const readOnlyStatus = ['configurationstates', 'bgpsessionstates', 'nodes'].includes(resource);
          if (readOnlyStatus) {
            assert.deepEqual(rule.verbs, ['get', 'list'], `${resource} is read-only`);
          } else {
            assert.ok(managed.has(`${group}/${plural(resource)}`), `${role.metadata.name}: ${group}/${resource} is not a kind the agent manages`);
          }
        }
      }
      assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'), 'no wildcards');
    }
  }
  const clusterRole = rendered.find((o: any) => o.kind === 'ClusterRole') as any;
  assert.deepEqual(clusterRole.rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]);
  const identity = (rendered as any[]).find((o) => o.kind === 'Role' && o.metadata.namespace === 'metalfleet-system');
  assert.deepEqual(identity.rules[0].resourceNames, ['metalfleet-agent-identity']);
});

test('the deployment and the systemd unit pass only flags the agent takes', () => {
  const deployment = rendered.find((o: any) => o.kind === 'Deployment') as any;
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  assert.equal(args[0], 'agent');
  for (const arg of args.slice(1)) assert.ok(agentFlags.has(/^--([a-z-]+)/.exec(arg)![1]), arg);
  assert.ok(args.includes('--mode=kubernetes'));
  const unit = readFileSync(new URL('deploy/systemd/metalfleet-agent.service', root), 'utf8');
  const exec = unit.split('\n').filter((l) => /^(ExecStart=|  --)/.test(l)).join(' ');
  const flags = [...exec.matchAll(/ --([a-z-]+)/g)].map((m) => m[1]!);
  assert.ok(flags.includes('mode') && flags.includes('token-file'));
  for (const flag of flags) assert.ok(agentFlags.has(flag), `--${flag}`);
});

test('the Dockerfile copies folders that exist and starts the metalfleet command', () => {
  const dockerfile = readFileSync(new URL('deploy/Dockerfile', root), 'utf8');
  for (const [, dir] of dockerfile.matchAll(/^COPY (\S+) \.\//gm)) assert.ok(existsSync(new URL(dir!, root)), dir);
  assert.match(dockerfile, /ENTRYPOINT \["node", "\/opt\/metalfleet\/dist\/metalfleet\.mjs"\]/);
});
