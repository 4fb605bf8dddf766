// Encryptor over AWS KMS by envelope encryption: each seal asks KMS for a fresh data key (GenerateDataKey,
// AES_256, with the encryption context), encrypts locally with AES-256-GCM and stores the KMS-encrypted data
// key beside the ciphertext; open asks KMS to decrypt the data key. Any plaintext size works (KMS Encrypt
// stops at 4 KiB) and the KMS key never leaves KMS. The KMS calls go through a small port so this module
// does not depend on @aws-sdk/client-kms (functions/support/kmsApi.ts adapts the SDK client).
import { gcmOpen, gcmSeal, SealedValueError, type EncryptionContext, type Encryptor } from './encryptor.ts';

export interface KmsApi {
  generateDataKey(request: { keyId: string; encryptionContext: EncryptionContext }): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }>;
  decrypt(request: { keyId: string; ciphertext: Uint8Array; encryptionContext: EncryptionContext }): Promise<Uint8Array>;
}

const PREFIX = 'kms1';

export class KmsEnvelopeEncryptor implements Encryptor {
  constructor(private readonly kms: KmsApi, private readonly keyId: string) {}

  async seal(plaintext: string, context: EncryptionContext): Promise<string> {
    const dataKey = await this.kms.generateDataKey({ keyId: this.keyId, encryptionContext: context });
    const key = Buffer.from(dataKey.plaintext);
    try {
      return `${PREFIX}.${Buffer.from(dataKey.ciphertext).toString('base64url')}.${gcmSeal(key, plaintext, context)}`;
    } finally {
      key.fill(0);
      dataKey.plaintext.fill(0);
    }
  }

  async open(sealed: string, context: EncryptionContext): Promise<string> {
    const [prefix, encryptedKey, ...rest] = sealed.split('.');
    if (prefix !== PREFIX || !encryptedKey || rest.length !== 3) throw new SealedValueError('not sealed by KMS envelope encryption');
    const plaintextKey = await this.kms.decrypt({ keyId: this.keyId, ciphertext: Buffer.from(encryptedKey, 'base64url'), encryptionContext: context });
    const key = Buffer.from(plaintextKey);
    try {
      return gcmOpen(key, rest.join('.'), context);
    } finally {
      key.fill(0);
      plaintextKey.fill(0);
    }
  }
}
