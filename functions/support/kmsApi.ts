// The KmsApi port (shared/aws/kmsEnvelopeEncryptor.ts) over the AWS SDK v3 KMS client, built once per
// warm Lambda.
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KmsApi } from '../../shared/aws/kmsEnvelopeEncryptor.ts';

export function sdkKmsApi(client: KMSClient = new KMSClient({})): KmsApi {
  return {
    async generateDataKey({ keyId, encryptionContext }) {
      const out = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: encryptionContext }));
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error(`KMS GenerateDataKey for ${keyId} returned no key material`);
      return { plaintext: out.Plaintext, ciphertext: out.CiphertextBlob };
    },
    async decrypt({ keyId, ciphertext, encryptionContext }) {
      const out = await client.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: ciphertext, EncryptionContext: encryptionContext }));
      if (!out.Plaintext) throw new Error(`KMS Decrypt with ${keyId} returned no plaintext`);
      return out.Plaintext;
    },
  };
}
