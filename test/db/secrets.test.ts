// Peer passwords at rest: sealed with AES-256-GCM, never stored in clear, and a wrong key says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { resultRows } from '../../db/client.ts';
import { envelopeKeyId, generateSecretKeyText, importSecretKey, importSecretKeys, openSecret, sealSecret, SecretKeyError } from '../../db/secrets.ts';
import { withPlatform, withTenant } from '../../db/tenant.ts';
import * as s from '../../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createTenant } from '../helpers/fixtures.ts';

let database: TestDatabase;
before(async () => { database = await openTestDatabase(); });
after(() => database.close());

describe('peer password storage', () => {
  test('the stored column never contains the plaintext, and decrypts back with the right key', async () => {
    const key = await importSecretKey(generateSecretKeyText());
    const tenantId = await createTenant(database.db);
    const password = 'Sup3r-s3cret!#';
    const sealed = await sealSecret(key, password, tenantId);
    await withTenant(database.db, tenantId, (tx) => tx.insert(s.peers).values({
      tenantId, name: 'edge', myASN: 64512, peerASN: 64500, peerAddress: '10.80.0.1', passwordEncrypted: sealed,
    }));
    const rows = resultRows<Record<string, unknown>>(await withPlatform(database.db, (tx) => tx.execute(sql`select * from peers`)));
    const stored = JSON.stringify(rows);
    assert.ok(!stored.includes(password), 'plaintext in the row');
    assert.ok(!stored.includes(Buffer.from(password).toString('base64').slice(0, 12)), 'base64 plaintext in the row');
    const column = rows[0]!.password_encrypted as string;
    assert.match(column, /^v1\.[0-9a-f]{8}\./);
    assert.equal(await openSecret(key, column, tenantId), password);
  });

  test('each sealing uses a fresh nonce', async () => {
    const key = await importSecretKey(generateSecretKeyText());
    assert.notEqual(await sealSecret(key, 'same', 'ctx'), await sealSecret(key, 'same', 'ctx'));
  });

  test('decrypting with the wrong key fails with a clear error', async () => {
    const right = await importSecretKey(generateSecretKeyText());
    const wrong = await importSecretKey(generateSecretKeyText());
    const sealed = await sealSecret(right, 'hunter2', 'tenant-1');
    await assert.rejects(openSecret(wrong, sealed, 'tenant-1'),
      (err) => err instanceof SecretKeyError && err.failure === 'unknown-key' && err.keyId === sealed.split('.')[1]
        && /sealed with key [0-9a-f]{8}, which is neither METALFLEET_SECRET_KEY nor in METALFLEET_SECRET_KEY_PREVIOUS/.test(err.message));
  });

  test('previous keys open what they sealed and never seal; the current key seals', async () => {
    const oldText = generateSecretKeyText();
    const old = await importSecretKey(oldText);
    const sealedByOld = await sealSecret(old, 'hunter2', 'tenant-1');
    const ring = await importSecretKeys(generateSecretKeyText(), oldText);
    assert.equal(await openSecret(ring, sealedByOld, 'tenant-1'), 'hunter2');
    const sealedByRing = await sealSecret(ring, 'hunter2', 'tenant-1');
    assert.equal(envelopeKeyId(sealedByRing), ring.id);
    assert.notEqual(ring.id, old.id);
    await assert.rejects(openSecret(old, sealedByRing, 'tenant-1'), SecretKeyError);
    // The previous key still binds the owner: it opens nothing moved to another row.
    await assert.rejects(openSecret(ring, sealedByOld, 'tenant-2'), (err) => err instanceof SecretKeyError && err.failure === 'unreadable');
  });

  test("a ciphertext moved to another owner's row does not decrypt", async () => {
    const key = await importSecretKey(generateSecretKeyText());
    const sealed = await sealSecret(key, 'hunter2', 'tenant-1');
    await assert.rejects(openSecret(key, sealed, 'tenant-2'), (err) => err instanceof SecretKeyError && /failed authentication/.test(err.message));
  });

  test('a tampered ciphertext does not decrypt', async () => {
    const key = await importSecretKey(generateSecretKeyText());
    const sealed = await sealSecret(key, 'hunter2', 'ctx');
    // Flip one character inside the ciphertext (the last one may carry only padding bits).
    const at = sealed.lastIndexOf('.') + 4;
    const tampered = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    await assert.rejects(openSecret(key, tampered, 'ctx'), SecretKeyError);
  });

  test('a malformed key is refused with what is expected', async () => {
    await assert.rejects(importSecretKey('too-short'), /32 bytes as base64/);
    const key = await importSecretKey('0'.repeat(64));
    assert.match(key.id, /^[0-9a-f]{8}$/);
  });
});
