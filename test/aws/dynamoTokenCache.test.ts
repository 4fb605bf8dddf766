import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenCache } from '#shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor, SealedValueError } from '#shared/aws/encryptor.ts';
import { KmsEnvelopeEncryptor, type KmsApi } from '#shared/aws/kmsEnvelopeEncryptor.ts';
import { gcmOpen, gcmSeal } from '#shared/aws/encryptor.ts';
import { startDynalite, type DynamoEmulator } from '../support/awsEmulators.ts';

let dynamo: DynamoEmulator;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

const TOKEN = { accessToken: 'eyJ-canary-access-token-0001', refreshToken: 'canary-refresh-token-0002', expiresAtMs: Date.now() + 7_200_000, obtainedAtMs: Date.now() };

/** A KMS stand-in: data keys wrapped under a master key it keeps, bound to the encryption context. */
function fakeKms(): KmsApi & { calls: string[] } {
  const master = randomBytes(32);
  const calls: string[] = [];
  return {
    calls,
    async generateDataKey({ encryptionContext }) {
      calls.push('GenerateDataKey');
      const plaintext = randomBytes(32);
      return { plaintext: new Uint8Array(plaintext), ciphertext: Buffer.from(gcmSeal(master, plaintext.toString('base64'), encryptionContext)) };
    },
    async decrypt({ ciphertext, encryptionContext }) {
      calls.push('Decrypt');
      return new Uint8Array(Buffer.from(gcmOpen(master, Buffer.from(ciphertext).toString(), encryptionContext), 'base64'));
    },
  };
}

// The behaviour shared with the folder adapter (sealing, other keys, the lock) is in test/ionapi/tokenCache.test.ts.
describe('DynamoTokenCache', () => {
  it('seals with KMS envelope encryption: a data key per write, the context bound to the ciphertext', async () => {
    const table = await dynamo.createStateTable();
    const kms = fakeKms();
    const cache = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: new KmsEnvelopeEncryptor(kms, 'arn:aws:kms:eu-west-1:123456789012:key/k') });
    await cache.write('ACME_PRD', TOKEN);
    expect(await cache.read('ACME_PRD')).toEqual(TOKEN);
    expect(kms.calls).toEqual(['GenerateDataKey', 'Decrypt']);
    const encryptor = new KmsEnvelopeEncryptor(kms, 'k');
    const sealed = await encryptor.seal('secret', { tenant: 'A' });
    expect(sealed.startsWith('kms1.')).toBe(true);
    await expect(encryptor.open(sealed, { tenant: 'B' })).rejects.toThrow();
  });

  it('opens a locally sealed value only with its key and its context', async () => {
    const key = randomBytes(32);
    const sealed = await LocalKeyEncryptor.fromKey(key).seal('x', { tenant: 'A' });
    expect(await LocalKeyEncryptor.fromKey(key).open(sealed, { tenant: 'A' })).toBe('x');
    await expect(LocalKeyEncryptor.fromKey(key).open(sealed, { tenant: 'B' })).rejects.toBeInstanceOf(SealedValueError);
    await expect(LocalKeyEncryptor.fromKey(randomBytes(32)).open(sealed, { tenant: 'A' })).rejects.toBeInstanceOf(SealedValueError);
  });
});
