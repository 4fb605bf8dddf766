import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenCache, tokenCachePk } from '#shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor, SealedValueError } from '#shared/aws/encryptor.ts';
import { KmsEnvelopeEncryptor, type KmsApi } from '#shared/aws/kmsEnvelopeEncryptor.ts';
import { gcmOpen, gcmSeal } from '#shared/aws/encryptor.ts';
import { startDynalite, type DynamoEmulator } from '../support/awsEmulators.ts';
import { capturingLog } from '../support/cloudSuite.ts';

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

describe('DynamoTokenCache', () => {
  it('shares one token per tenant and stores it sealed: the item holds no readable token', async () => {
    const table = await dynamo.createStateTable();
    const keyFile = path.join(await mkdtemp(path.join(tmpdir(), 'token-key-')), 'token-cache.key');
    const encryptor = await LocalKeyEncryptor.fromKeyFile(keyFile);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const writer = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor });
    const reader = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: await LocalKeyEncryptor.fromKeyFile(keyFile) });

    expect(await reader.read('ACME_PRD')).toBeUndefined();
    await writer.write('ACME_PRD', TOKEN);
    expect(await reader.read('ACME_PRD')).toEqual(TOKEN);
    expect(await reader.read('OTHER')).toBeUndefined();

    const { Item } = await dynamo.documents.send(new GetCommand({ TableName: table, Key: { pk: tokenCachePk('ACME_PRD'), sk: 'token' } }));
    const stored = JSON.stringify(Item);
    expect(stored).not.toContain(TOKEN.accessToken);
    expect(stored).not.toContain(TOKEN.refreshToken);
    expect(Item).toMatchObject({ kind: 'token', expiresAtMs: TOKEN.expiresAtMs, ttl: expect.any(Number) });
    expect(await readFile(keyFile, 'utf8')).not.toContain(TOKEN.accessToken);
  });

  it('treats a token sealed under another key or for another tenant as absent (a new one is obtained)', async () => {
    const table = await dynamo.createStateTable();
    const log = capturingLog();
    const mine = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log });
    const theirs = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log });
    await theirs.write('ACME_PRD', TOKEN);
    expect(await mine.read('ACME_PRD')).toBeUndefined();
    expect(log.lines.map((l) => l.message)).toContain('the cached ION API token cannot be opened; a new one will be obtained');
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN.accessToken);

    const key = randomBytes(32);
    const sealed = await LocalKeyEncryptor.fromKey(key).seal('x', { tenant: 'A' });
    await expect(LocalKeyEncryptor.fromKey(key).open(sealed, { tenant: 'B' })).rejects.toBeInstanceOf(SealedValueError);
  });

  it('lets one process at a time renew: the lock is exclusive, expires, and only its holder releases it', async () => {
    const table = await dynamo.createStateTable();
    let now = 1_000_000;
    const cache = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), now: () => now });
    const first = await cache.tryLock('ACME_PRD', 30_000);
    expect(first).toBeDefined();
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeUndefined();
    expect(await cache.tryLock('OTHER', 30_000)).toBeDefined();
    now += 31_000;
    const second = await cache.tryLock('ACME_PRD', 30_000);
    expect(second).toBeDefined();
    await first!.release(); // expired holder: must not free its successor's lock
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeUndefined();
    await second!.release();
    expect(await cache.tryLock('ACME_PRD', 30_000)).toBeDefined();
  });

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
});
