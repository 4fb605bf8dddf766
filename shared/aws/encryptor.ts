// The port for sealing small secrets at rest (the shared ION API token cache): KMS envelope encryption in
// AWS (kmsEnvelopeEncryptor.ts), AES-256-GCM with a key file from the state folder for local runs and tests.
// The encryption context is bound to the ciphertext (KMS context / GCM associated data): a sealed value
// copied to another tenant's item does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SyncError } from '../errors/syncError.ts';

export type EncryptionContext = Readonly<Record<string, string>>;

export interface Encryptor {
  seal(plaintext: string, context: EncryptionContext): Promise<string>;
  /** Throws SealedValueError when the value was not sealed by this key with this context. */
  open(sealed: string, context: EncryptionContext): Promise<string>;
}

export class SealedValueError extends SyncError {
  override name = 'SealedValueError';
}

/** Context as stable bytes (sorted keys), for GCM associated data. */
function contextBytes(context: EncryptionContext): Buffer {
  return Buffer.from(JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]])), 'utf8');
}

const IV_BYTES = 12;
/**
 * The full GCM tag, and only that: Node accepts shorter tags on decryption unless told the length (DEP0182),
 * and a 4-byte tag can be forged by trying 2^32 values (a truncated tag opened before the hardening review).
 */
const TAG_BYTES = 16;

/** AES-256-GCM with a 12-byte random IV; output `<prefix>.<iv>.<tag>.<ciphertext>` in base64url. */
export function gcmSeal(key: Buffer, plaintext: string, context: EncryptionContext): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(contextBytes(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

export function gcmOpen(key: Buffer, sealed: string, context: EncryptionContext): string {
  const parts = sealed.split('.');
  if (parts.length !== 3) throw new SealedValueError('sealed value has the wrong format');
  const [iv, tag, body] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SealedValueError(`sealed value has a ${iv.length}-byte IV and a ${tag.length}-byte tag; ${IV_BYTES} and ${TAG_BYTES} are required`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new SealedValueError('sealed value does not open with this key and context (another key, or tampered)', { cause: error });
  }
}

const LOCAL_PREFIX = 'local1';

/** AES-256-GCM under a 32-byte key kept in a file (created with mode 0600 on first use). */
export class LocalKeyEncryptor implements Encryptor {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): LocalKeyEncryptor {
    if (key.length !== 32) throw new Error('a local encryption key has 32 bytes');
    return new LocalKeyEncryptor(key);
  }

  /** Reads the key file, or creates it with a random key. */
  static async fromKeyFile(file: string): Promise<LocalKeyEncryptor> {
    let key: Buffer;
    try {
      key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      key = randomBytes(32);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
        // Another process created it first: use theirs.
        if (e.code !== 'EEXIST') throw e;
        key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
      });
      await chmod(file, 0o600);
    }
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key; delete it to create a new one`);
    return new LocalKeyEncryptor(key);
  }

  async seal(plaintext: string, context: EncryptionContext): Promise<string> {
    return `${LOCAL_PREFIX}.${gcmSeal(this.key, plaintext, context)}`;
  }

  async open(sealed: string, context: EncryptionContext): Promise<string> {
    if (!sealed.startsWith(`${LOCAL_PREFIX}.`)) throw new SealedValueError('not sealed by a local key');
    return gcmOpen(this.key, sealed.slice(LOCAL_PREFIX.length + 1), context);
  }
}
