import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../api/app.ts';
import { generateSecretKeyText, importSecretKey } from '../../db/secrets.ts';
import type { Db } from '../../db/client.ts';
import { generateSigningKeyJwk, importSigningKey } from '../../api/auth.ts';

const secretKey = await importSecretKey(generateSecretKeyText());
const auth = { signingKey: await importSigningKey(await generateSigningKeyJwk()) };
const quiet = () => {};

test('/readyz answers 503 problem+json when the database fails, without leaking the error', async () => {
  const db = { execute: () => Promise.reject(new Error('connect ECONNREFUSED 10.9.9.9:5432 password=hunter2')) } as unknown as Db;
  const res = await createApp({ db, secretKey, auth, publicUrl: 'http://metalfleet.test', log: quiet }).request('/readyz');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = await res.text();
  assert.doesNotMatch(body, /ECONNREFUSED|hunter2/);
  assert.equal(JSON.parse(body).code, 'database-unavailable');
});

test('/readyz answers 503 when the database hangs', async () => {
  const db = { execute: () => new Promise(() => {}) } as unknown as Db;
  const res = await createApp({ db, secretKey, auth, publicUrl: 'http://metalfleet.test', log: quiet, readyTimeoutMs: 50 }).request('/readyz');
  assert.equal(res.status, 503);
});

test('/healthz does not touch the database', async () => {
  const db = { execute: () => { throw new Error('must not be called'); } } as unknown as Db;
  const res = await createApp({ db, secretKey, auth, publicUrl: 'http://metalfleet.test', log: quiet }).request('/healthz');
  assert.equal(res.status, 200);
});
