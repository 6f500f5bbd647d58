// The deployment files against the code they deploy. Both Helm charts are rendered (with their
// defaults and with ci/full-values.yaml) by Go's text/template, the engine Helm uses
// (test/helpers/helm.ts; there is no helm binary here), and every object is validated against the
// Kubernetes API's OpenAPI schema or its CRD, strict about unknown fields (test/helpers/kube-schema.ts).
// Then: what each chart promises (probes, hooks, secrets, shutdown timing, security context, RBAC
// exercised on the wire by the agent's own Kubernetes code), that every value is documented, and
// that the Dockerfile, the systemd unit and CI agree with the code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { AGENT_USAGE } from '../agents/main.ts';
import { KubernetesApplier, KubernetesHealth, MANAGED_KINDS, SecretIdentityStore } from '../agents/kubernetes.ts';
import { renderCluster } from '../render/index.ts';
import { FakeKube, type RecordedRequest } from './helpers/fake-kube.ts';
import { chartDir, helmRenderUnavailable, helmTemplate, readValues, type KubeObject, type Values } from './helpers/helm.ts';
import { KUBERNETES_OPENAPI_VERSION, schemaProblems } from './helpers/kube-schema.ts';
import { intentFor, SCENARIOS } from './render/scenarios.ts';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

// Without Go the charts cannot be rendered: skip, saying why, unless CI requires them.
const unavailable = helmRenderUnavailable();
if (unavailable && process.env.METALFLEET_REQUIRE_CHART_RENDER === '1') throw new Error(`METALFLEET_REQUIRE_CHART_RENDER=1 but ${unavailable}`);
const skip = unavailable ?? false;

const CHARTS = ['metalfleet', 'metalfleet-agent'] as const;
const VARIANTS = { defaults: [], 'ci/full-values.yaml': ['ci/full-values.yaml'] } as const;
const objects = (chart: string, overrides: Array<string | Values> = []) => helmTemplate(chart, overrides).map((r) => r.object);
const one = (list: KubeObject[], kind: string, name?: string) => {
  const found = list.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0]!;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

describe('both charts render to objects the Kubernetes API accepts', { skip }, () => {
  for (const chart of CHARTS) {
    for (const [variant, overrides] of Object.entries(VARIANTS)) {
      test(`${chart} with ${variant}: every object valid against Kubernetes ${KUBERNETES_OPENAPI_VERSION}'s schema or its CRD`, () => {
        const rendered = helmTemplate(chart, [...overrides]);
        assert.ok(rendered.length >= 5);
        const seen = new Set<string>();
        for (const { source, object } of rendered) {
          assert.deepEqual(schemaProblems(object), [], `${source}: ${object.kind}/${object.metadata?.name}`);
          assert.match(object.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${source}: a DNS label`);
          assert.ok(object.metadata.name.length <= 63, `${source}: ${object.metadata.name} is longer than 63`);
          assert.equal(CLUSTER_SCOPED.has(object.kind), object.metadata.namespace === undefined, `${source}: namespace of a ${object.kind}`);
          const key = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
          assert.ok(!seen.has(key), `${key} rendered twice`);
          seen.add(key);
        }
      });
    }
  }

  test('the schemas are strict: a misspelt field, a malformed quantity, a missing required field are rejected', () => {
    const deployment = one(objects('metalfleet'), 'Deployment');
    const container = () => structuredClone(deployment);
    const misspelt = container();
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    assert.match(schemaProblems(misspelt).join('\n'), /must NOT have additional properties \(readinesProbe\)/);
    const quantity = container();
    quantity.spec.template.spec.containers[0].resources.limits.memory = '384MB';
    assert.notDeepEqual(schemaProblems(quantity), []);
    const nameless = container();
    delete nameless.spec.template.spec.containers[0].name;
    assert.match(schemaProblems(nameless).join('\n'), /required property 'name'/);
    const monitor = one(objects('metalfleet', ['ci/full-values.yaml']), 'ServiceMonitor');
    assert.notDeepEqual(schemaProblems({ ...monitor, spec: { ...monitor.spec, endpoint: [] } }), []);
    assert.notDeepEqual(schemaProblems({ apiVersion: 'apps/v1beta1', kind: 'Deployment' }), [], 'a kind without a schema is a problem');
  });
});

describe('the control plane chart', { skip }, () => {
  const configSource = read('cli/config.ts');
  const serverEnv = new Set([...configSource.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));

  for (const [variant, overrides] of Object.entries(VARIANTS)) {
    describe(`with ${variant}`, () => {
      const values = [...overrides].reduce<Values>((v, file) => ({ ...v, ...readValues(`${chartDir('metalfleet')}${file}`) }), readValues(`${chartDir('metalfleet')}values.yaml`));
      const list = objects('metalfleet', [...overrides]);
      const deployment = one(list, 'Deployment');
      const pod = deployment.spec.template;
      const api = pod.spec.containers[0];
      const env = new Map<string, any>(api.env.map((e: { name: string }) => [e.name, e]));
      const value = (name: string) => env.get(name)?.value as string | undefined;
      const extra = new Set(((values.extraEnv ?? []) as Array<{ name: string }>).map((e) => e.name));

      test('serve, at least two instances, listening on every address; every variable one the server reads', () => {
        assert.deepEqual(api.args, ['serve']);
        assert.ok(deployment.spec.replicas >= 2, `replicas ${deployment.spec.replicas}`);
        assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
        assert.equal(value('HOST'), '0.0.0.0');
        for (const name of env.keys()) {
          if (extra.has(name) || name === 'NODE_OPTIONS') continue;
          assert.ok(serverEnv.has(name), `${name} is not read by cli/config.ts`);
        }
        assert.ok(value('METALFLEET_PUBLIC_URL')?.startsWith('https://'));
      });

      test('the database URL and both keys come from existing Secrets', () => {
        const database = values.database as { existingSecret: string; key: string };
        const keys = values.keys as { existingSecret: string; signingKeyKey: string; secretKeyKey: string };
        assert.deepEqual(env.get('DATABASE_URL').valueFrom.secretKeyRef, { name: database.existingSecret, key: database.key });
        assert.deepEqual(env.get('METALFLEET_SIGNING_KEY').valueFrom.secretKeyRef, { name: keys.existingSecret, key: keys.signingKeyKey });
        assert.deepEqual(env.get('METALFLEET_SECRET_KEY').valueFrom.secretKeyRef, { name: keys.existingSecret, key: keys.secretKeyKey });
        // The previous keys of a rotation: from the same Secret when their keys are set, absent otherwise.
        const previous = values.keys as { previousSigningKeysKey: string; previousSecretKeysKey: string };
        for (const [name, key] of [['METALFLEET_SIGNING_KEYS_PREVIOUS', previous.previousSigningKeysKey], ['METALFLEET_SECRET_KEY_PREVIOUS', previous.previousSecretKeysKey]] as const) {
          assert.deepEqual(env.get(name)?.valueFrom.secretKeyRef, key ? { name: keys.existingSecret, key } : undefined, name);
        }
        assert.ok(!list.some((o) => o.kind === 'Secret'), 'the chart creates no Secret');
      });

      test('liveness on /healthz and readiness on /readyz, on the port the server listens on', () => {
        const http = api.ports.find((p: { name: string }) => p.name === 'http');
        assert.equal(String(http.containerPort), value('PORT'));
        // HTTPS probes exactly when the server serves HTTPS.
        const scheme = value('METALFLEET_TLS_CERT') ? 'HTTPS' : 'HTTP';
        assert.deepEqual(api.livenessProbe.httpGet, { path: '/healthz', port: 'http', scheme });
        assert.deepEqual(api.readinessProbe.httpGet, { path: '/readyz', port: 'http', scheme });
        assert.deepEqual(api.startupProbe.httpGet, { path: '/healthz', port: 'http', scheme });
      });

      test('metrics on a listener of their own, behind a Service the API Service and the Ingress do not route to', () => {
        const port = Number(/:(\d+)$/.exec(value('METALFLEET_METRICS_LISTEN')!)![1]);
        assert.equal(api.ports.find((p: { name: string }) => p.name === 'metrics').containerPort, port);
        const services = list.filter((o) => o.kind === 'Service');
        const metrics = services.find((s) => s.spec.ports.some((p: { targetPort: string }) => p.targetPort === 'metrics'))!;
        assert.equal(metrics.spec.ports.length, 1);
        const apiService = services.find((s) => s !== metrics)!;
        assert.deepEqual(apiService.spec.ports.map((p: { targetPort: string }) => p.targetPort), ['http']);
        for (const service of services) assert.ok(matches(service.spec.selector, pod.metadata.labels), `${service.metadata.name} selects the API pods`);
        const monitor = list.find((o) => o.kind === 'ServiceMonitor');
        if (monitor) {
          assert.ok(matches(monitor.spec.selector.matchLabels, metrics.metadata.labels));
          assert.ok(!matches(monitor.spec.selector.matchLabels, apiService.metadata.labels), 'the ServiceMonitor selects the metrics Service only');
          assert.deepEqual(monitor.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path]), [['metrics', '/metrics']]);
        }
        const ingress = list.find((o) => o.kind === 'Ingress');
        if (ingress) {
          const backend = ingress.spec.rules[0].http.paths[0].backend.service;
          assert.deepEqual(backend, { name: apiService.metadata.name, port: { name: 'http' } });
          assert.equal(new URL(value('METALFLEET_PUBLIC_URL')!).host, ingress.spec.rules[0].host, 'publicUrl is the Ingress host');
          assert.deepEqual(ingress.spec.tls[0].hosts, [ingress.spec.rules[0].host]);
        }
      });

      test('graceful shutdown: the delay covers endpoint propagation, and the grace period outlasts delay + timeout', () => {
        const delay = Number(value('METALFLEET_SHUTDOWN_DELAY'));
        const timeout = Number(value('METALFLEET_SHUTDOWN_TIMEOUT'));
        assert.ok(delay >= 5, `METALFLEET_SHUTDOWN_DELAY ${delay}`);
        assert.ok(pod.spec.terminationGracePeriodSeconds > delay + timeout + 5, `${pod.spec.terminationGracePeriodSeconds} s`);
        // Readiness leaves the endpoints on SIGTERM at once (the pod is terminating); a probe
        // failure leaves them only after a few periods.
        assert.ok(api.readinessProbe.periodSeconds * api.readinessProbe.failureThreshold <= 30);
      });

      test('a PodDisruptionBudget for the API pods only', () => {
        const pdb = one(list, 'PodDisruptionBudget');
        assert.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels));
        assert.ok(pdb.spec.maxUnavailable < deployment.spec.replicas);
        assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
      });

      test('the migration Job runs `migrate` before install and upgrade, and no Service or budget selects it', () => {
        const job = one(list, 'Job');
        const hooks = job.metadata.annotations!['helm.sh/hook']!.split(',');
        assert.deepEqual(hooks.sort(), ['pre-install', 'pre-upgrade']);
        const container = job.spec.template.spec.containers[0];
        assert.deepEqual(container.args, ['migrate']);
        assert.equal(container.image, api.image);
        assert.equal(job.spec.template.spec.restartPolicy, 'Never');
        assert.ok(container.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name);
        for (const selector of [deployment.spec.selector.matchLabels, ...list.filter((o) => o.kind === 'Service').map((s) => s.spec.selector)]) {
          assert.ok(!matches(selector, job.spec.template.metadata.labels), 'the migration pod is not an API pod');
        }
      });

      test('non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp; /tmp and the data dir on emptyDirs', () => {
        for (const workload of [deployment, one(list, 'Job')]) {
          const spec = workload.spec.template.spec;
          assert.equal(spec.securityContext.runAsNonRoot, true);
          assert.ok(spec.securityContext.runAsUser > 0);
          assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
          assert.equal(spec.automountServiceAccountToken, false, 'the API never calls the Kubernetes API');
          for (const c of spec.containers) {
            assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
            const dataDir = c.env.find((e: { name: string }) => e.name === 'METALFLEET_DATA_DIR').value;
            for (const path of ['/tmp', dataDir]) {
              const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path);
              assert.ok(mount, `${workload.kind}: ${path} is mounted`);
              assert.ok(spec.volumes.find((v: { name: string }) => v.name === mount.name).emptyDir, `${path} is an emptyDir`);
            }
          }
        }
      });

      test('resources requested; the heap cap fits under the memory limit', () => {
        const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]);
        assert.ok(api.resources.requests.cpu && api.resources.requests.memory);
        assert.ok(mebibytes(api.resources.limits.memory) >= mebibytes(api.resources.requests.memory));
        const heap = Number(/--max-old-space-size=(\d+)/.exec(value('NODE_OPTIONS')!)![1]);
        assert.ok(heap + 128 <= mebibytes(api.resources.limits.memory), `heap ${heap} MiB under a ${api.resources.limits.memory} limit`);
      });
    });
  }

  test('the alerts use only metrics the API exports, from the ServiceMonitor\'s job', () => {
    const list = objects('metalfleet', ['ci/full-values.yaml']);
    const rule = one(list, 'PrometheusRule');
    const metricsService = list.find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-metrics'))!;
    const exported = new Set([...read('cli/metrics.ts').matchAll(/name: '(metalfleet_[a-z_]+)'/g)].map((m) => m[1]!));
    exported.add('metalfleet_renders_total').add('metalfleet_poll_database_reads_total').add('metalfleet_session_rows_written_total');
    const alerts = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{ alert: string; expr: string }>;
    const names = alerts.map((a) => a.alert);
    for (const wanted of ['MetalfleetDatabaseUnavailable', 'MetalfleetHighErrorRate', 'MetalfleetConfigDrift', 'MetalfleetMaintenanceFailing', 'MetalfleetClustersStale', 'MetalfleetClustersFailed', 'MetalfleetBgpSessionsDown']) {
      assert.ok(names.includes(wanted), wanted);
    }
    for (const { alert, expr } of alerts) {
      for (const [, metric] of expr.matchAll(/\b(metalfleet_[a-z_]+)/g)) {
        assert.ok(exported.has(metric!.replace(/_(bucket|sum|count)$/, '')), `${alert}: ${metric} is not exported by cli/metrics.ts`);
      }
      assert.ok(expr.includes(`job="${metricsService.metadata.name}"`), `${alert} selects the metrics Service's job`);
    }
    for (const doc of alerts.map((a) => a.alert)) assert.ok(read('docs/operations.md').includes(doc), `docs/operations.md describes ${doc}`);
  });

  test('required values are required; the migration hook can be switched off', () => {
    assert.throws(() => objects('metalfleet', [{ publicUrl: '' }]), /publicUrl is required/);
    assert.throws(() => objects('metalfleet', [{ database: { existingSecret: '' } }]), /database.existingSecret is required/);
    assert.throws(() => objects('metalfleet', [{ config: { oidc: { issuer: 'https://idp' } } }]), /config.oidc.audience is required/);
    assert.ok(!objects('metalfleet', [{ migration: { enabled: false } }]).some((o) => o.kind === 'Job'));
  });

  test('the console\'s OIDC sign-in: client id and scopes as values, the client secret from a Secret', () => {
    const envOf = (overrides: Parameters<typeof objects>[1]) => new Map<string, any>(one(objects('metalfleet', overrides), 'Deployment')
      .spec.template.spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
    const full = envOf(['ci/full-values.yaml']);
    assert.equal(full.get('METALFLEET_OIDC_CLIENT_ID').value, 'metalfleet-console');
    assert.equal(full.get('METALFLEET_OIDC_SCOPES').value, 'openid profile email groups');
    assert.deepEqual(full.get('METALFLEET_OIDC_CLIENT_SECRET').valueFrom.secretKeyRef, { name: 'metalfleet-oidc', key: 'client-secret' });
    const defaults = envOf([]);
    for (const name of ['METALFLEET_OIDC_ISSUER', 'METALFLEET_OIDC_CLIENT_ID', 'METALFLEET_OIDC_CLIENT_SECRET']) assert.ok(!defaults.has(name), name);
  });
});

describe('the agent chart', { skip }, () => {
  const agentFlags = new Set([...AGENT_USAGE.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
  const defaults = () => objects('metalfleet-agent');

  test('service account, roles and bindings, a deployment (and with full values a metrics Service and ServiceMonitor)', () => {
    assert.deepEqual(defaults().map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount']);
    const full = objects('metalfleet-agent', ['ci/full-values.yaml']);
    const service = one(full, 'Service');
    const monitor = one(full, 'ServiceMonitor');
    const deployment = one(full, 'Deployment');
    assert.ok(matches(service.spec.selector, deployment.spec.template.metadata.labels));
    assert.ok(matches(monitor.spec.selector.matchLabels, service.metadata.labels));
    const port = deployment.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'metrics');
    assert.equal(service.spec.ports[0].targetPort, 'metrics');
    assert.ok(deployment.spec.template.spec.containers[0].args.includes(`--listen=0.0.0.0:${port.containerPort}`));
    // A private CA: the bundle's ConfigMap is mounted where --ca-file points.
    const caFile = deployment.spec.template.spec.containers[0].args.find((a: string) => a.startsWith('--ca-file='))?.slice('--ca-file='.length);
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'ca-bundle');
    const volume = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'ca-bundle');
    assert.equal(caFile, `${mount.mountPath}/ca.pem`);
    assert.equal(volume.configMap.name, 'metalfleet-ca');
    assert.ok(!one(defaults(), 'Deployment').spec.template.spec.containers[0].args.some((a: string) => a.startsWith('--ca-file')));
  });

  test('RBAC: the MetalLB and frr-k8s kinds it manages, its own identity Secret, and read-only nodes; nothing else, no wildcard, no empty resourceNames', () => {
    const managed = new Set(MANAGED_KINDS.map((k) => `${k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : ''}/${k.kind.toLowerCase()}`));
    const plural = (r: string) => r.replace(/ies$/, 'y').replace(/s$/, '');
    for (const variant of Object.values(VARIANTS)) {
      const rendered = objects('metalfleet-agent', [...variant]);
      for (const role of rendered.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
        for (const rule of role.rules) {
          if (rule.nonResourceURLs) {
            assert.deepEqual([rule.nonResourceURLs, rule.verbs], [['/metrics'], ['get']]);
            continue;
          }
          for (const group of rule.apiGroups) {
            assert.ok(['', 'metallb.io', 'frrk8s.metallb.io'].includes(group), `${role.metadata.name}: apiGroup ${group}`);
            for (const resource of rule.resources) {
              if (['configurationstates', 'bgpsessionstates', 'nodes'].includes(resource)) assert.deepEqual(rule.verbs, ['get', 'list'], `${resource} is read-only`);
              else assert.ok(managed.has(`${group}/${plural(resource)}`), `${role.metadata.name}: ${group}/${resource} is not a kind the agent manages`);
            }
          }
          assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*'), 'no wildcards');
          // resourceNames: [] means every name.
          assert.ok(rule.resourceNames === undefined || rule.resourceNames.length > 0, `${role.metadata.name}: an empty resourceNames`);
        }
      }
      const identity = rendered.find((o) => o.kind === 'Role' && o.metadata.namespace === 'metalfleet-system')!;
      assert.deepEqual(identity.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['metalfleet-agent-identity'], verbs: ['get', 'create', 'patch'] }]);
    }
    const clusterRole = one(defaults(), 'ClusterRole');
    assert.deepEqual(clusterRole.rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]);
  });

  test('the deployment and the systemd unit pass only flags the agent takes', () => {
    for (const variant of Object.values(VARIANTS)) {
      const deployment = one(objects('metalfleet-agent', [...variant]), 'Deployment');
      const container = deployment.spec.template.spec.containers[0];
      // The agent's own bundle, which the build writes (package.json build:agent).
      assert.deepEqual(container.command, ['node', '--max-semi-space-size=1', '/opt/metalfleet/dist/metalfleet-agent.mjs']);
      const args: string[] = container.args;
      for (const arg of args) assert.ok(agentFlags.has(/^--([a-z-]+)/.exec(arg)![1]), arg);
      assert.ok(args.includes('--mode=kubernetes'));
    }
    const unit = read('deploy/systemd/metalfleet-agent.service');
    assert.match(unit, /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 \/opt\/metalfleet\/dist\/metalfleet-agent\.mjs /m);
    assert.match(read('package.json'), /--outdir=dist --entry-names=metalfleet-agent /);
    // The agent's flags: what follows the bundle (before it, Node's own).
    const exec = unit.split('\n').filter((l) => /^(ExecStart=|  --)/.test(l)).join(' ').split('metalfleet-agent.mjs')[1]!;
    const flags = [...exec.matchAll(/ --([a-z-]+)/g)].map((m) => m[1]!);
    assert.ok(flags.includes('mode') && flags.includes('token-file'));
    for (const flag of flags) assert.ok(agentFlags.has(flag), `--${flag}`);
  });

  describe('RBAC against what the agent does on the wire (its Kubernetes code against a fake API server)', () => {
    const AGENT_NS = 'metalfleet-system';
    const NS = 'metallb-system';
    let kube: FakeKube;
    before(async () => { kube = new FakeKube(); await kube.start(); });
    after(() => kube.stop());

    const passwordPeers = SCENARIOS.passwords!.peers!.filter((p) => p.password).map((p) => p.name);
    const revision = (n: number, scenario: string) => {
      const result = renderCluster(intentFor('metallb-frr', SCENARIOS[scenario]!));
      assert.ok(result.ok, scenario);
      return { revision: n, backend: result.backend, content: result.content, sha256: result.sha256 };
    };

    interface Attributes { verb: string; group: string; resource: string; namespace?: string; name?: string }
    /** What the API server authorizes a request as (discovery is open to every authenticated user). */
    function attributes(r: RecordedRequest): Attributes[] {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(r.path);
      if (!m || !r.kind) return [];
      const base = { group: m[1] ?? '', namespace: m[2], resource: m[3]!, name: m[4] };
      const verbs = r.method === 'GET' ? [base.name ? 'get' : 'list'] : r.method === 'PATCH' ? ['patch', 'create'] : r.method === 'DELETE' ? ['delete'] : [r.method];
      return verbs.map((verb) => ({ ...base, verb }));
    }
    /** RBAC's rule matching, over the roles the chart binds to the agent's service account. */
    function allowed(rendered: KubeObject[], a: Attributes): boolean {
      const boundTo = (b: KubeObject) => b.subjects.some((s: { kind: string; name: string; namespace: string }) => s.kind === 'ServiceAccount' && s.name === 'mf' && s.namespace === AGENT_NS);
      const roles = [
        ...rendered.filter((b) => b.kind === 'RoleBinding' && b.metadata.namespace === a.namespace && boundTo(b))
          .map((b) => rendered.find((r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name && (r.kind === 'ClusterRole' || r.metadata.namespace === a.namespace))),
        ...rendered.filter((b) => b.kind === 'ClusterRoleBinding' && boundTo(b)).map((b) => rendered.find((r) => r.kind === 'ClusterRole' && r.metadata.name === b.roleRef.name)),
      ];
      return roles.some((role) => role?.rules.some((rule: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }) =>
        rule.apiGroups?.includes(a.group) && rule.resources?.includes(a.resource) && rule.verbs.includes(a.verb)
        && (rule.resourceNames === undefined || (a.name !== undefined && rule.resourceNames.includes(a.name)))));
    }

    test('enrollment identity, three revisions (password Secrets, then the bgpextras ConfigMap, then back) and health: every request allowed with its peers listed', async () => {
      const kc = kube.kubeConfig();
      const identity = new SecretIdentityStore(kc, AGENT_NS);
      assert.equal(await identity.load(), undefined);
      await identity.save({ 'agent-key.jwk': '{}', 'identity.json': '{}' });
      assert.ok(await identity.load());
      const applier = new KubernetesApplier({ kubeConfig: kc, namespace: NS });
      for (const [n, scenario] of [[1, 'passwords'], [2, 'local-peering-frr-9.1'], [3, 'passwords']] as const) {
        assert.deepEqual(await applier.apply(revision(n, scenario)), { ok: true }, scenario);
      }
      await new KubernetesHealth({ kubeConfig: kc, backend: 'metallb-frr-k8s', namespace: NS, metallbVersion: '0.16.1' }).collect();

      const requests = kube.requests.flatMap(attributes);
      const did = (verb: string, resource: string, name?: string) => requests.some((a) => a.verb === verb && a.resource === resource && (name === undefined || a.name === name));
      for (const peer of passwordPeers) assert.ok(did('create', 'secrets', `${peer}-bgp-password`) && did('delete', 'secrets', `${peer}-bgp-password`), peer);
      assert.ok(did('create', 'configmaps', 'bgpextras') && did('delete', 'configmaps', 'bgpextras') && did('list', 'secrets') && did('list', 'nodes'));
      assert.ok(did('create', 'secrets', 'metalfleet-agent-identity') && did('get', 'secrets', 'metalfleet-agent-identity'));

      const listed = objects('metalfleet-agent', [{ rbac: { bgpPasswordPeers: passwordPeers } }]);
      const denied = requests.filter((a) => !allowed(listed, a));
      assert.deepEqual(denied, [], 'every request the agent made is allowed');

      // The defaults list no peer: the password Secrets (and only they) are refused, by name.
      const refused = requests.filter((a) => !allowed(defaults(), a));
      assert.ok(refused.length > 0);
      for (const a of refused) assert.match(`${a.resource}/${a.name}`, /^secrets\/.+-bgp-password$/);
      // No other Secret of the MetalLB namespace may be written (its memberlist key, webhook certificates).
      for (const verb of ['create', 'patch', 'delete', 'get']) {
        assert.equal(allowed(listed, { verb, group: '', resource: 'secrets', namespace: NS, name: 'memberlist' }), false, verb);
      }
      const any = objects('metalfleet-agent', [{ rbac: { anyPasswordSecret: true } }]);
      assert.deepEqual(requests.filter((a) => !allowed(any, a)), []);
    });
  });
});

describe('every chart value is documented', { skip }, () => {
  /** Key paths of a values tree: maps recurse, anything else (an empty map too) is a leaf. */
  function paths(values: Values, prefix = ''): string[] {
    return Object.entries(values).flatMap(([key, value]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      return value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 ? [path, ...paths(value as Values, path)] : [path];
    });
  }
  const leaves = (values: Values) => { const all = paths(values); return all.filter((p) => !all.some((q) => q.startsWith(`${p}.`))); };

  for (const chart of CHARTS) {
    test(`${chart}: each key of values.yaml in the README's values table, each row a key that exists; full values use only known keys`, () => {
      const values = readValues(`${chartDir(chart)}values.yaml`);
      const known = new Set(paths(values));
      const readme = readFileSync(`${chartDir(chart)}README.md`, 'utf8');
      const rows = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
      assert.ok(rows.length > 5);
      for (const row of rows) assert.ok(known.has(row), `README.md documents ${row}, which values.yaml does not have`);
      const documented = (path: string) => rows.some((row) => path === row || path.startsWith(`${row}.`));
      for (const path of leaves(values)) assert.ok(documented(path), `${chart}: values.yaml's ${path} is not in README.md's values table`);
      // Free-form maps and lists ({} and [] by default), and maps documented by one row (resources), take keys of their own.
      const all = paths(values);
      const freeForm = (path: string) => [...known].some((k) => path.startsWith(`${k}.`) && (!all.some((q) => q.startsWith(`${k}.`)) || rows.includes(k)));
      for (const path of paths(readValues(`${chartDir(chart)}ci/full-values.yaml`))) {
        assert.ok(known.has(path) || freeForm(path), `ci/full-values.yaml sets ${path}, which values.yaml does not have`);
      }
    });
  }
});

describe('the image and the runtimes', () => {
  const dockerfile = read('deploy/Dockerfile');
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  const nodeMajor = Number(/^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile)?.[1]);
  const ciNode = Number(/^NODE24_VERSION=\$\{METALFLEET_NODE24_VERSION:-(\d+)\./m.exec(read('.ci/node24'))?.[1]);

  test('the Dockerfile copies folders that exist, installs with patches/, runs the bundle as a non-root user', () => {
    for (const [, dir] of dockerfile.matchAll(/^COPY (\S+) \.\//gm)) assert.ok(existsSync(new URL(dir!, root)), dir);
    assert.match(dockerfile, /ENTRYPOINT \["node", "\/opt\/metalfleet\/dist\/metalfleet\.mjs"\]/);
    const at = (re: RegExp) => dockerfile.search(re);
    assert.ok(at(/^COPY patches /m) >= 0 && at(/^COPY patches /m) < at(/^RUN npm ci/m), 'patches/ is copied before npm ci (postinstall needs it)');
    assert.ok(at(/^RUN npm run build/m) > at(/^RUN npm ci/m));
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(dockerfile);
    assert.ok(user && Number(user[1]) > 0, 'USER is a numeric non-root id (runAsNonRoot can check it)');
    assert.ok(!/^COPY \. /m.test(dockerfile), 'no COPY of the whole context');
    // What the charts run: the user they set, the data dir they mount.
    assert.equal(Number(user[1]), 65532);
    assert.match(dockerfile, /METALFLEET_DATA_DIR=\/var\/lib\/metalfleet\b/);
    assert.match(dockerfile, /install -d -o 65532 -g 65532 -m 0700 \/var\/lib\/metalfleet \/var\/lib\/metalfleet-agent/);
  });

  test('one Node.js LTS in the image and in CI, and package.json engines that admit it and the machine\'s own', () => {
    assert.ok(nodeMajor >= 24 && nodeMajor % 2 === 0, `node:${nodeMajor} is not a current LTS line`);
    assert.equal(ciNode, nodeMajor, 'CI tests the Node.js major the image runs');
    const minimum = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
    assert.ok(minimum, `engines.node ${pkg.engines.node}`);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number, number];
    assert.ok(major > Number(minimum[1]) || (major === Number(minimum[1]) && minor >= Number(minimum[2])), `this Node.js ${process.version} is outside engines ${pkg.engines.node}`);
  });
});

// Keep the parsed Dockerfile honest for readers: the build command the README gives.
test('the README gives the image build command', () => {
  assert.match(read('README.md'), /docker build -f deploy\/Dockerfile -t metalfleet \./);
  for (const chart of ['metalfleet', 'metalfleet-agent']) {
    assert.equal(parse(read(`deploy/helm/${chart}/Chart.yaml`)).appVersion, (JSON.parse(read('package.json')) as { version: string }).version,
      `${chart}: the chart's appVersion is the package version`);
  }
});
