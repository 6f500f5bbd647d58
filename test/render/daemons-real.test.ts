// Every golden bird.conf and gobgpd.toml on the real daemons (BIRD 2.0.12, GoBGP 3.10): each
// parses (`bird -p -c`, `gobgpd --dry-run`), and the agent's appliers load them one after the
// other into one running daemon in a network namespace of its own (BIRD: `configure check`, then
// `configure`; GoBGP: SIGHUP, then the API must show the file's neighbors, policies and routes).
// Values that the injection properties accept although they look hostile parse too, and reach the
// daemon as one value.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BirdHost } from '../../agents/bird.ts';
import { announcedIn, GobgpHost, neighborBlocks } from '../../agents/gobgp.ts';
import { renderCluster } from '../../render/index.ts';
import { dataplaneSkip, Lab, sh, type BirdInstance, type GobgpInstance } from '../helpers/lab.ts';
import { intentFor } from './scenarios.ts';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const goldens = (file: string) => readdirSync(GOLDEN).sort().filter((s) => existsSync(join(GOLDEN, s, file)))
  .map((scenario) => ({ scenario, content: readFileSync(join(GOLDEN, scenario, file), 'utf8') }));

/** Passwords the renderers accept that a naive renderer would let break out. */
const HOSTILE_PASSWORDS = { bird: ['a;}{#\\b', "x'y]z", '}};protocol'], gobgp: ['a";}\\b', '\\"]\n'.trim(), "q'#[[neighbors]]"] };

function withPassword(backend: 'bird' | 'gobgp', password: string): string {
  const result = renderCluster(intentFor(backend, {
    pools: [{ name: 'web', cidrs: ['10.250.100.0/24'] }],
    peers: [{ name: 'tor', myASN: 65001, peerASN: 65002, peerAddress: '10.250.0.2', password }],
    advertisements: [{ name: 'announce', type: 'bgp' }],
  }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.content;
}

describe('golden bird.conf on real BIRD 2', { skip: dataplaneSkip(['bird', 'birdc']), concurrency: 1 }, () => {
  let lab: Lab;
  let bird: BirdInstance;
  let host: BirdHost;
  let scratch: string;
  before(async () => {
    lab = new Lab();
    scratch = mkdtempSync(join(tmpdir(), 'mf-birdconf-'));
    const { frrNs } = await lab.twoHosts();
    bird = await lab.startBird(frrNs, 'bird', 'router id 10.250.0.1;\nprotocol device { }\n');
    host = new BirdHost({ confFile: bird.configFile, birdc: 'birdc', socket: bird.socket, stateDir: join(scratch, 'state'), node: 'n' });
  });
  after(async () => {
    await lab?.teardown();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('there is a golden bird.conf for most scenarios', () => assert.ok(goldens('bird.bird.conf').length >= 15));

  for (const { scenario, content } of goldens('bird.bird.conf')) {
    test(`${scenario}: parses, and the applier loads it into a running BIRD`, async () => {
      const file = join(scratch, `${scenario}.conf`);
      writeFileSync(file, content);
      const parsed = await sh('bird', ['-p', '-c', file]);
      assert.equal(parsed.code, 0, `bird -p: ${parsed.stderr}${parsed.stdout}`);
      assert.deepEqual(await host.apply({ revision: 1, backend: 'bird', content, sha256: '' }), { ok: true });
      const protocols = await bird.birdc(['show', 'protocols']);
      for (const [, name] of content.matchAll(/^protocol bgp (\S+) \{$/gm)) assert.match(protocols, new RegExp(`^${name} +BGP `, 'm'));
    });
  }

  test('hostile-looking passwords BIRD takes stay one string', async () => {
    for (const password of HOSTILE_PASSWORDS.bird) {
      const content = withPassword('bird', password);
      assert.deepEqual(await host.apply({ revision: 1, backend: 'bird', content, sha256: '' }), { ok: true }, password);
      assert.equal((await bird.birdc(['show', 'protocols'])).match(/ BGP /g)?.length, 1);
    }
  });
});

describe('golden gobgpd.toml on real GoBGP 3', { skip: dataplaneSkip(['gobgpd', 'gobgp']), concurrency: 1 }, () => {
  let lab: Lab;
  let gobgp: GobgpInstance;
  let host: GobgpHost;
  let scratch: string;
  before(async () => {
    lab = new Lab();
    scratch = mkdtempSync(join(tmpdir(), 'mf-gobgpconf-'));
    const { frrNs } = await lab.twoHosts();
    gobgp = await lab.startGobgp(frrNs, 'gobgp', '[global.config]\n  as = 65001\n  router-id = "10.250.0.1"\n', { unixApi: true });
    host = new GobgpHost({ confFile: gobgp.configFile, gobgpd: 'gobgpd', gobgp: 'gobgp', target: gobgp.target, stateDir: join(scratch, 'state'), node: 'n' });
  });
  after(async () => {
    await lab?.teardown();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('there is a golden gobgpd.toml for most scenarios', () => assert.ok(goldens('gobgp.gobgpd.toml').length >= 12));

  for (const { scenario, content } of goldens('gobgp.gobgpd.toml')) {
    test(`${scenario}: passes the dry run, and the applier loads it into a running gobgpd`, async () => {
      const file = join(scratch, `${scenario}.toml`);
      writeFileSync(file, content);
      const dry = await sh('gobgpd', ['-f', file, '--dry-run', '--pprof-disable', '-p']);
      assert.equal(dry.code, 0, `gobgpd --dry-run: ${dry.stderr}${dry.stdout}`);
      assert.deepEqual(await host.apply({ revision: 1, backend: 'gobgp', content, sha256: '' }), { ok: true });
      const neighbors = JSON.parse((await gobgp.cli(['neighbor', '-j'])).stdout) as Array<{ conf: { neighbor_address: string } }>;
      assert.deepEqual(neighbors.map((n) => n.conf.neighbor_address).sort(), [...neighborBlocks(content).blocks.keys()].sort());
      const rib = { ...JSON.parse((await gobgp.cli(['global', 'rib', '-a', 'ipv4', '-j'])).stdout || '{}'),
        ...JSON.parse((await gobgp.cli(['global', 'rib', '-a', 'ipv6', '-j'])).stdout || '{}') };
      assert.deepEqual(Object.keys(rib).sort(), announcedIn(content).sort());
    });
  }

  test('hostile-looking passwords reach gobgpd as one value', async () => {
    for (const password of HOSTILE_PASSWORDS.gobgp) {
      const content = withPassword('gobgp', password);
      assert.deepEqual(await host.apply({ revision: 1, backend: 'gobgp', content, sha256: '' }), { ok: true }, password);
      const [neighbor] = JSON.parse((await gobgp.cli(['neighbor', '-j'])).stdout) as Array<{ conf: { auth_password: string } }>;
      assert.equal(neighbor!.conf.auth_password, password);
    }
  });
});
