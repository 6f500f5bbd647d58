// `metalfleet serve` opens its port only once the poll caches are loaded (cli/serve.ts
// listenWhenWarm): before that a connection is refused, so a restarted fleet's retries cost the
// warming instance nothing; past the limit it opens anyway; an instance stopping meanwhile never does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { listenWhenWarm } from '../../cli/serve.ts';
import { freePort } from '../helpers/process.ts';

const answering = (): Server => createServer((_req, res) => res.end('ok'));
const get = (port: number) => fetch(`http://127.0.0.1:${port}/`).then(async (r) => r.text(), (err: Error) => `refused: ${(err.cause as { code?: string })?.code}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the port is closed until the warm-up settles, then answers', async () => {
  const server = answering();
  const port = await freePort();
  let warm!: () => void;
  const listening = listenWhenWarm(server, new Promise<void>((r) => { warm = r; }), { port, host: '127.0.0.1', limitMs: 60_000, stopped: () => false });
  try {
    await sleep(200);
    assert.equal(await get(port), 'refused: ECONNREFUSED');
    warm();
    assert.equal((await listening)!.port, port);
    assert.equal(await get(port), 'ok');
  } finally {
    server.close();
  }
});

test('a failed warm-up opens the port too (the caches then fill poll by poll)', async () => {
  const server = answering();
  const warmed = Promise.reject(new Error('database away')).catch(() => undefined);
  const address = await listenWhenWarm(server, warmed, { port: 0, host: '127.0.0.1', limitMs: 60_000, stopped: () => false });
  try {
    assert.equal(await get(address!.port), 'ok');
  } finally {
    server.close();
  }
});

test('a warm-up that does not end opens the port after the limit; a stopping instance never opens it', async () => {
  const server = answering();
  const started = performance.now();
  const address = await listenWhenWarm(server, new Promise(() => {}), { port: 0, host: '127.0.0.1', limitMs: 300, stopped: () => false });
  try {
    assert.ok(performance.now() - started >= 290);
    assert.equal(await get(address!.port), 'ok');
  } finally {
    server.close();
  }
  const stopping = answering();
  assert.equal(await listenWhenWarm(stopping, Promise.resolve(), { port: 0, host: '127.0.0.1', limitMs: 300, stopped: () => true }), undefined);
  assert.equal(stopping.listening, false);
});
