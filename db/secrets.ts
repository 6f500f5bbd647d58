// Secrets at rest (peer passwords): AES-256-GCM under METALFLEET_SECRET_KEY, via WebCrypto so
// the same code runs on Node and Workers. The envelope names the key it was sealed with, so a
// wrong key is reported as such instead of as garbage.
//
//   v1.<key id: 8 hex>.<iv: base64url>.<ciphertext+tag: base64url>
//
// The additional authenticated data binds a ciphertext to its owner (e.g. the tenant id), so a
// sealed value copied into another tenant's row does not decrypt.

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

export interface SecretKey {
  id: string;
  key: CryptoKey;
}

const encoder = new TextEncoder();

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const normal = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(normal), (c) => c.charCodeAt(0));
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeKeyMaterial(text: string): Uint8Array<ArrayBuffer> {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Uint8Array.from(trimmed.match(/../g)!, (h) => parseInt(h, 16));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return fromBase64(trimmed);
  throw new SecretKeyError('METALFLEET_SECRET_KEY must be 32 bytes as base64 (e.g. `openssl rand -base64 32`) or 64 hex characters');
}

export async function importSecretKey(text: string): Promise<SecretKey> {
  const raw = decodeKeyMaterial(text);
  if (raw.length !== 32) throw new SecretKeyError(`METALFLEET_SECRET_KEY must be 32 bytes, got ${raw.length}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
  const id = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { id, key };
}

/** 32 fresh random bytes, base64: a new METALFLEET_SECRET_KEY. */
export function generateSecretKeyText(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

export async function sealSecret(key: SecretKey, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) }, key.key, encoder.encode(plaintext)));
  return `v1.${key.id}.${toBase64Url(iv)}.${toBase64Url(sealed)}`;
}

export async function openSecret(key: SecretKey, envelope: string, context: string): Promise<string> {
  const parts = envelope.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') throw new SecretKeyError('stored secret is not a v1 envelope');
  const [, keyId, iv, data] = parts as [string, string, string, string];
  if (keyId !== key.id) {
    throw new SecretKeyError(`stored secret was sealed with key ${keyId}, but METALFLEET_SECRET_KEY is key ${key.id}: wrong secret key`);
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(iv), additionalData: encoder.encode(context) }, key.key, fromBase64(data));
    return new TextDecoder().decode(plain);
  } catch {
    throw new SecretKeyError('stored secret failed authentication: wrong secret key, wrong owner, or tampered data');
  }
}
