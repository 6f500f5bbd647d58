// Secrets at rest (peer passwords): AES-256-GCM under METALFLEET_SECRET_KEY, via WebCrypto so
// the same code runs on Node and Workers. The envelope names the key it was sealed with, so a
// wrong key is reported as such instead of as garbage.
//
//   v1.<key id: 8 hex>.<iv: base64url>.<ciphertext+tag: base64url>
//
// The additional authenticated data binds a ciphertext to its owner (e.g. the tenant id), so a
// sealed value copied into another tenant's row does not decrypt.
//
// Rotation: the current key seals; previous keys (METALFLEET_SECRET_KEY_PREVIOUS) only open the
// envelopes that name them, until `metalfleet secrets reseal` has sealed everything again under
// the current key (api/reseal.ts).
import { Buffer } from 'node:buffer';

/** Why a stored secret could not be opened; `unknown-key` names a key no configured key matches. */
export type SecretKeyFailure = 'malformed-key' | 'unknown-key' | 'unreadable';

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
  constructor(message: string, readonly failure: SecretKeyFailure = 'malformed-key', readonly keyId?: string) {
    super(message);
  }
}

export interface SecretKey {
  id: string;
  key: CryptoKey;
  /** HMAC key for agent tickets (api/agent-tickets.ts), derived from this key: raw bytes, for a synchronous HMAC on the poll path. */
  ticketKey: Uint8Array;
  /** Older keys that open envelopes sealed with them; never used to seal. */
  previous?: readonly SecretKey[];
}

const encoder = new TextEncoder();

// node:buffer (Node, and Workers under nodejs_compat): btoa/atob over a string built a character at
// a time took a tenth of a fan-out's CPU (20,000 envelopes for 10,000 clusters).
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const decoded = Buffer.from(text, 'base64'); // also takes base64url
  return new Uint8Array(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength));
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
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
  // A key of its own for each use: HMAC(secret key, label).
  const hmac = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const ticketKey = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, encoder.encode('metalfleet agent tickets v1')));
  return { id, key, ticketKey };
}

/**
 * The current key and the previous ones (`previousText`: keys separated by commas or whitespace,
 * as METALFLEET_SECRET_KEY_PREVIOUS holds them). A previous key equal to the current one is dropped.
 */
export async function importSecretKeys(currentText: string, previousText?: string): Promise<SecretKey> {
  const current = await importSecretKey(currentText);
  const previous: SecretKey[] = [];
  for (const text of (previousText ?? '').split(/[\s,]+/).filter(Boolean)) {
    let key: SecretKey;
    try {
      key = await importSecretKey(text);
    } catch (err) {
      throw new SecretKeyError(`METALFLEET_SECRET_KEY_PREVIOUS: ${(err as Error).message.replace(/^METALFLEET_SECRET_KEY /, 'each key ')}`);
    }
    if (key.id !== current.id && !previous.some((p) => p.id === key.id)) previous.push(key);
  }
  return previous.length > 0 ? { ...current, previous } : current;
}

/** The key id an envelope names (undefined when it is not a v1 envelope). */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split('.');
  return parts.length === 4 && parts[0] === 'v1' && /^[0-9a-f]{8}$/.test(parts[1]!) ? parts[1] : undefined;
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
  if (parts.length !== 4 || parts[0] !== 'v1') throw new SecretKeyError('stored secret is not a v1 envelope', 'unreadable');
  const [, keyId, iv, data] = parts as [string, string, string, string];
  const opener = keyId === key.id ? key : key.previous?.find((p) => p.id === keyId);
  if (!opener) {
    const known = [key.id, ...(key.previous ?? []).map((p) => p.id)].join(', ');
    throw new SecretKeyError(`stored secret was sealed with key ${keyId}, which is neither METALFLEET_SECRET_KEY nor in `
      + `METALFLEET_SECRET_KEY_PREVIOUS (configured: ${known})`, 'unknown-key', keyId);
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(iv), additionalData: encoder.encode(context) }, opener.key, fromBase64(data));
    return new TextDecoder().decode(plain);
  } catch {
    throw new SecretKeyError(`stored secret of key ${keyId} failed authentication: wrong owner or tampered data`, 'unreadable', keyId);
  }
}
