// A loopback fake Kubernetes API server: discovery, server-side apply (PATCH with
// application/apply-patch+yaml), get, list by label selector and delete, for the kinds the agent
// touches. It records every request so tests can check what went on the wire.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

const RESOURCES: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  v1: [{ name: 'secrets', kind: 'Secret', namespaced: true }, { name: 'configmaps', kind: 'ConfigMap', namespaced: true }, { name: 'nodes', kind: 'Node', namespaced: false }],
  'metallb.io/v1beta1': ['IPAddressPool', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile', 'Community', 'ConfigurationState']
    // Plurals as the CRDs declare them (communities), which is what RBAC rules name.
    .map((kind) => ({ name: `${kind.toLowerCase().replace(/y$/, 'ie')}s`, kind, namespaced: true })),
  'metallb.io/v1beta2': [{ name: 'bgppeers', kind: 'BGPPeer', namespaced: true }],
  'frrk8s.metallb.io/v1beta1': [{ name: 'frrconfigurations', kind: 'FRRConfiguration', namespaced: true }, { name: 'bgpsessionstates', kind: 'BGPSessionState', namespaced: true }],
};

export interface RecordedRequest { method: string; path: string; query: URLSearchParams; contentType: string | undefined; kind?: string; name?: string }

export class FakeKube {
  readonly objects = new Map<string, Obj>();
  readonly requests: RecordedRequest[] = [];
  /** kind/name that answer 422 to an apply. */
  readonly failures = new Set<string>();
  private server!: Server;
  url = '';

  private key(groupVersion: string, kind: string, namespace: string | undefined, name: string) {
    return `${groupVersion}|${kind}|${namespace ?? ''}|${name}`;
  }

  put(object: Obj): void {
    this.objects.set(this.key(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name), object);
  }

  find(kind: string, name: string): Obj | undefined {
    return [...this.objects.values()].find((o) => o.kind === kind && o.metadata.name === name);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  kubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'agent', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'agent' }],
      currentContext: 'fake',
    });
    return kc;
  }

  private send(res: ServerResponse, status: number, body: unknown) {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string) {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, 'http://fake');
    let body = '';
    for await (const chunk of req) body += chunk;
    const record: RecordedRequest = { method: req.method!, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'] };
    this.requests.push(record);

    if (url.pathname === '/api') return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
    if (url.pathname === '/apis') {
      return this.send(res, 200, { kind: 'APIGroupList', groups: ['metallb.io', 'frrk8s.metallb.io'].map((g) => ({ name: g, versions: [] })) });
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return this.status(res, 404, 'NotFound', `no route ${url.pathname}`);
    const groupVersion = m[1] ?? `${m[2]}/${m[3]}`;
    const resources = RESOURCES[groupVersion];
    if (!resources) return this.status(res, 404, 'NotFound', `no group ${groupVersion}`);
    const [namespace, plural, name] = [m[4], m[5], m[6]];
    if (!plural) {
      return this.send(res, 200, { kind: 'APIResourceList', groupVersion, resources: resources.map((r) => ({ ...r, singularName: r.kind.toLowerCase(), verbs: ['get', 'list', 'patch', 'delete', 'create'] })) });
    }
    const resource = resources.find((r) => r.name === plural);
    if (!resource) return this.status(res, 404, 'NotFound', `no resource ${plural}`);
    record.kind = resource.kind;
    record.name = name;

    if (req.method === 'GET' && !name) {
      const selector = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((p) => p.split('='));
      const items = [...this.objects.values()].filter((o) => o.kind === resource.kind && o.apiVersion === groupVersion
        && (!resource.namespaced || o.metadata.namespace === namespace) && selector.every(([k, v]) => o.metadata.labels?.[k!] === v));
      return this.send(res, 200, { kind: `${resource.kind}List`, apiVersion: groupVersion, metadata: {}, items });
    }
    const key = this.key(groupVersion, resource.kind, namespace, name!);
    if (req.method === 'GET') {
      const found = this.objects.get(key);
      return found ? this.send(res, 200, found) : this.status(res, 404, 'NotFound', `${plural} "${name}" not found`);
    }
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml') return this.status(res, 415, 'UnsupportedMediaType', 'apply-patch only');
      if (!url.searchParams.get('fieldManager')) return this.status(res, 422, 'Invalid', 'fieldManager is required for apply patch');
      if (this.failures.has(`${resource.kind}/${name}`)) return this.status(res, 422, 'Invalid', `${resource.kind}.${groupVersion} "${name}" is invalid: spec: rejected by a webhook`);
      const object = JSON.parse(body) as Obj;
      this.objects.set(key, object);
      return this.send(res, 200, object);
    }
    if (req.method === 'DELETE') {
      if (!this.objects.delete(key)) return this.status(res, 404, 'NotFound', `${plural} "${name}" not found`);
      return this.send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    return this.status(res, 405, 'MethodNotAllowed', req.method!);
  }
}
