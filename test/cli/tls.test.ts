// TLS on the Node listener (METALFLEET_TLS_CERT/KEY) and the agent's trust in it (--ca-file): a
// certificate from a private CA is served; an agent given that CA enrolls and polls; one given
// another CA, or only the system's, refuses the server; a renewed pair on disk is taken without a
// restart. Certificates come from the openssl command line, an oracle this code did not write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, generateAgentKey } from '../../agents/client.ts';
import { fetchTrusting } from '../../agents/tls.ts';
import { freePort, runMetalfleet, startServer } from '../helpers/process.ts';

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, and a certificate for 127.0.0.1 it signed: `<name>-ca.pem`, `<name>-cert.pem`, `<name>-key.pem`. */
function issue(dir: string, name: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', `${name}-ca-key.pem`, '-out', `${name}-ca.pem`, '-subj', `/CN=${name} test CA`, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl(dir, 'req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca-key.pem`, '-CAcreateserial',
    '-out', `${name}-cert.pem`, '-days', '2', '-extfile', `${name}.ext`);
}

/** The TLS failure of a request, or 'ok'. */
async function reach(url: string, fetchFn: typeof fetch): Promise<string> {
  try {
    const res = await fetchFn(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return res.status === 200 ? 'ok' : `status ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(err);
  }
}

test('HTTPS with a private CA: trusted with --ca-file, refused without; a renewed pair is served without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-tls-'));
  issue(dir, 'first');
  issue(dir, 'second');
  const cert = join(dir, 'served-cert.pem');
  const key = join(dir, 'served-key.pem');
  copyFileSync(join(dir, 'first-cert.pem'), cert);
  copyFileSync(join(dir, 'first-key.pem'), key);
  const port = await freePort();
  const server = await startServer({
    METALFLEET_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', METALFLEET_SECRET_KEY: '', METALFLEET_SIGNING_KEY: '', PORT: String(port),
    METALFLEET_PUBLIC_URL: '', METALFLEET_TLS_CERT: cert, METALFLEET_TLS_KEY: key,
  });
  try {
    const url = `https://127.0.0.1:${port}`;
    assert.equal(server.url, url, 'serve says it listens on https');
    assert.equal(await reach(url, fetchTrusting(join(dir, 'first-ca.pem'))), 'ok');
    assert.equal(await reach(url, fetchTrusting(join(dir, 'second-ca.pem'))), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.notEqual(await reach(url, fetch), 'ok', 'the system store does not know a private CA');
    assert.equal(await reach(url.replace('https:', 'http:'), fetch).then((r) => r === 'ok'), false, 'no plain HTTP on the TLS port');

    // The agent's whole protocol over it: enrollment needs the token the server wrote.
    const admin = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
    const trusted = fetchTrusting(join(dir, 'first-ca.pem'));
    const call = async (path: string, body: unknown) => {
      const res = await trusted(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      assert.ok(res.status < 300, `${path}: ${res.status} ${text}`);
      return JSON.parse(text) as { token: string };
    };
    await call('/v1/tenants', { slug: 'acme', name: 'ACME' });
    await call('/v1/tenants/acme/clusters', { name: 'edge-1', backend: 'frr' });
    const { token } = await call('/v1/tenants/acme/clusters/edge-1/enrollment-tokens', {});
    const agent = new AgentClient({ baseUrl: url, fetch: trusted });
    await agent.enroll(token, { privateJwk: await generateAgentKey() });
    assert.equal((await agent.fetchConfig()).status, 200);
    const untrusting = new AgentClient({ baseUrl: url, fetch: fetchTrusting(join(dir, 'second-ca.pem')), identity: agent.identity! });
    await assert.rejects(untrusting.fetchConfig(), (err: Error) => /fetch failed/.test(err.message));

    // Renewal: the files change, new connections get the new pair (the server polls them every 2 s).
    copyFileSync(join(dir, 'second-key.pem'), key);
    copyFileSync(join(dir, 'second-cert.pem'), cert);
    const deadline = Date.now() + 15_000;
    while (await reach(url, fetchTrusting(join(dir, 'second-ca.pem'))) !== 'ok') {
      assert.ok(Date.now() < deadline, 'the renewed certificate was not served within 15 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await reach(url, fetchTrusting(join(dir, 'first-ca.pem'))), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.match(server.output(), /TLS certificate reloaded/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CA file or certificate pair that does not load is one line and exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-tls-bad-'));
  try {
    issue(dir, 'only');
    writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
    const agent = await runMetalfleet(['agent', '--url', 'https://127.0.0.1:1', '--mode', 'frr', '--ca-file', join(dir, 'empty.pem'),
      '--state-dir', join(dir, 'state')], {});
    assert.equal(agent.code, 1, agent.stderr);
    assert.match(agent.stderr, /^metalfleet: --ca-file .*empty\.pem: no PEM certificate in it\n$/);
    const missing = await runMetalfleet(['agent', '--url', 'https://127.0.0.1:1', '--mode', 'frr', '--ca-file', join(dir, 'nope.pem'),
      '--state-dir', join(dir, 'state')], {});
    assert.match(missing.stderr, /^metalfleet: --ca-file .*nope\.pem: ENOENT\n$/);
    // A certificate with another certificate's key.
    const serve = await runMetalfleet(['serve'], {
      METALFLEET_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', PORT: String(await freePort()),
      METALFLEET_TLS_CERT: join(dir, 'only-ca.pem'), METALFLEET_TLS_KEY: join(dir, 'only-key.pem'),
    });
    assert.equal(serve.code, 1, serve.stderr);
    assert.match(serve.stderr, /^metalfleet: METALFLEET_TLS_CERT\/METALFLEET_TLS_KEY: .*\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
