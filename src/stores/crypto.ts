/**
 * Optional encryption of stored values, so that whoever can read the shared store (a replica, a backup, a monitoring
 * tool) cannot read the tokens. AES-256-GCM from node:crypto: authenticated, so a changed value is rejected rather
 * than decrypted to garbage, with the store key as additional authenticated data, so a value copied to another key is
 * rejected too (one user's token cannot be served as another's).
 *
 * Format, versioned so that the scheme can change without misreading old values:
 * `v1.<iv base64url>.<tag base64url>.<ciphertext base64url>`, with a random 12-byte IV per write.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { TokenStoreError } from './errors.js';

/** A 32-byte key: raw bytes, or a base64 (or base64url) string of 32 bytes, e.g. from `openssl rand -base64 32`. */
export type EncryptionKey = Uint8Array | string;

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// 32 bytes are 43 base64 digits, plus one `=` of padding in the standard alphabet.
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * Checks a user-supplied key and returns a private copy (later changes to the caller's buffer do not affect it).
 * Throws a {@link ConfigurationError} for `option` that never echoes the key.
 *
 * @example
 * const key = parseEncryptionKey(process.env.TOKEN_STORE_KEY ?? '', 'encryptionKey');
 */
export function parseEncryptionKey(key: EncryptionKey, option: string): Buffer {
  if (typeof key === 'string') {
    if (!BASE64_KEY.test(key)) throw new ConfigurationError(option, 'must be a base64 string of exactly 32 bytes');
    return Buffer.from(key, 'base64');
  }
  if (key instanceof Uint8Array && key.byteLength === KEY_BYTES) return Buffer.from(key);
  throw new ConfigurationError(option, 'must be 32 bytes: a Buffer, or a base64 string of 32 bytes');
}

/**
 * Encrypts `plaintext` to the `v1.…` format, bound to `storeKey`.
 *
 * @example
 * const sealed = encryptValue(serializeTokenSet(tokens), key, storeKey(fields));
 */
export function encryptValue(plaintext: string, key: Buffer, storeKey: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(storeKey, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext].map(encodePart).join('.');
}

/**
 * Decrypts a value written by {@link encryptValue} under the same key and store key. Throws a
 * {@link TokenStoreError} (`reason: 'undecryptable'`) for another key, a tampered or moved value, or a value in
 * another format (including a plaintext one: with encryption on, a value an attacker wrote in clear is refused).
 */
export function decryptValue(sealed: string, key: Buffer, storeKey: string): string {
  const fail = (problem: string): never => {
    throw new TokenStoreError('get', 'undecryptable', storeKey, `the stored value ${problem}`);
  };
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return fail(`is not in the encrypted ${VERSION} format`);
  const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64url'));
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined) {
    return fail(`is not in the encrypted ${VERSION} format`);
  }
  // authTagLength pins the tag to 16 bytes: GCM would otherwise accept a truncated tag, which is easier to forge.
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(storeKey, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // node:crypto's message ("Unsupported state or unable to authenticate data") says nothing more; no cause kept.
    return fail('failed authentication: another encryption key, a changed value, or a value moved from another key');
  }
}

function encodePart(part: string | Buffer): string {
  return typeof part === 'string' ? part : part.toString('base64url');
}
