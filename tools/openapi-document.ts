// The OpenAPI document exactly as the app serves it at /openapi.json, built in-process: no server,
// no network, and no database (the document is made from the routes alone; a database that throws
// on use makes sure it stays that way).
import { createApp } from '../api/app.ts';
import { generateSigningKeyJwk, importSigningKey } from '../api/auth.ts';
import type { Db } from '../db/client.ts';
import { generateSecretKeyText, importSecretKey } from '../db/secrets.ts';

const noDatabase = new Proxy({}, {
  get(_target, property) {
    throw new Error(`the OpenAPI document must not need the database (it used db.${String(property)})`);
  },
}) as Db;

/** GET /openapi.json of an app built for the purpose. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const app = createApp({
    db: noDatabase,
    secretKey: await importSecretKey(generateSecretKeyText()),
    auth: { signingKey: await importSigningKey(await generateSigningKeyJwk()) },
    publicUrl: 'http://metalfleet.invalid',
    log: () => {},
  });
  const res = await app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  return await res.json() as Record<string, unknown>;
}
