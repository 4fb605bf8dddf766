// The sealed ION API token cache: a GCM tag must be the full 16 bytes (Node opens a value with a truncated tag
// unless told the length, DEP0182; a 4-byte tag is forgeable by trial), and a token's lifetime is authenticated
// with it. Someone able to write the state table (or the state folder) but not to use the key cannot make an
// expired or revoked token look fresh by editing expiresAtMs, nor shorten the tag.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenCache, tokenCachePk } from '#shared/aws/dynamoTokenCache.ts';
import { gcmOpen, gcmSeal, LocalKeyEncryptor, SealedValueError } from '#shared/aws/encryptor.ts';
import { KmsEnvelopeEncryptor, type KmsApi } from '#shared/aws/kmsEnvelopeEncryptor.ts';
import type { CachedToken } from '#shared/ionapi/tokenCache.ts';
import { FolderStateTable } from '#shared/state/folderStateTable.ts';
import { FolderTokenCache } from '#shared/state/folderTokenCache.ts';
import { keyOf } from '#shared/state/stateTable.ts';
import { startDynalite, type DynamoEmulator } from '../support/awsEmulators.ts';
import { capturingLog } from '../support/cloudSuite.ts';

let dynamo: DynamoEmulator;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

const CONTEXT = { purpose: 'cloudsuite-sync/ion-token', tenant: 'ACME_PRD' };

/** `<iv>.<tag>.<body>` with the tag cut to `bytes`. */
function withTagOf(sealed: string, bytes: number): string {
  const [iv, tag, body] = sealed.split('.') as [string, string, string];
  return [iv, Buffer.from(tag, 'base64url').subarray(0, bytes).toString('base64url'), body].join('.');
}

/** A KMS stand-in wrapping data keys under a master key it keeps, bound to the encryption context. */
function fakeKms(): KmsApi {
  const master = randomBytes(32);
  return {
    async generateDataKey({ encryptionContext }) {
      const plaintext = randomBytes(32);
      return { plaintext: new Uint8Array(plaintext), ciphertext: Buffer.from(gcmSeal(master, plaintext.toString('base64'), encryptionContext)) };
    },
    async decrypt({ ciphertext, encryptionContext }) {
      return new Uint8Array(Buffer.from(gcmOpen(master, Buffer.from(ciphertext).toString(), encryptionContext), 'base64'));
    },
  };
}

describe('AES-GCM tags', () => {
  // First in the file (a fresh process): Node emits a deprecation warning once per process.
  it('never hands Node a short tag: no truncated-tag deprecation warning (DEP0182), whatever the value holds', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.name);
    process.on('warning', onWarning);
    try {
      const key = randomBytes(32);
      const sealed = gcmSeal(key, 'x', CONTEXT);
      expect(gcmOpen(key, sealed, CONTEXT)).toBe('x');
      expect(() => gcmOpen(key, withTagOf(sealed, 4), CONTEXT)).toThrow(SealedValueError);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('DEP0182');
  });

  it.each([4, 8, 12, 15])('a value whose tag is cut to %i bytes does not open (local key and KMS envelope)', async (bytes) => {
    const key = randomBytes(32);
    const sealed = gcmSeal(key, 'canary-access-token', CONTEXT);
    expect(gcmOpen(key, sealed, CONTEXT)).toBe('canary-access-token');
    expect(() => gcmOpen(key, withTagOf(sealed, bytes), CONTEXT)).toThrow(SealedValueError);
    expect(() => gcmOpen(key, withTagOf(sealed, bytes), CONTEXT)).toThrow(`a 12-byte IV and a ${bytes}-byte tag; 12 and 16 are required`);

    const local = LocalKeyEncryptor.fromKey(key);
    const localSealed = await local.seal('canary', CONTEXT);
    const [prefix, ...rest] = localSealed.split('.');
    await expect(local.open(`${prefix}.${withTagOf(rest.join('.'), bytes)}`, CONTEXT)).rejects.toBeInstanceOf(SealedValueError);

    const kms = new KmsEnvelopeEncryptor(fakeKms(), 'arn:aws:kms:eu-west-1:123456789012:key/k');
    const kmsSealed = await kms.seal('canary', CONTEXT);
    const [kmsPrefix, dataKey, ...value] = kmsSealed.split('.');
    await expect(kms.open(`${kmsPrefix}.${dataKey}.${withTagOf(value.join('.'), bytes)}`, CONTEXT)).rejects.toBeInstanceOf(SealedValueError);
  });

});

describe('a cached token\'s lifetime is authenticated with it', () => {
  const issued = (): CachedToken => ({ accessToken: 'canary-access-token-0123456789', refreshToken: 'canary-refresh-token-0123456789', obtainedAtMs: Date.now() - 7_200_000, expiresAtMs: Date.now() - 60_000 });
  const FAR_FUTURE = Date.now() + 365 * 86_400_000;

  it('DynamoDB: an item whose clear expiresAtMs was moved a year ahead still reads as the expired token it is', async () => {
    const table = await dynamo.createStateTable();
    const cache = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log: capturingLog() });
    const token = issued();
    await cache.write('ACME_PRD', token);
    await dynamo.documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: tokenCachePk('ACME_PRD'), sk: 'token' },
        UpdateExpression: 'SET expiresAtMs = :far, obtainedAtMs = :now',
        ExpressionAttributeValues: { ':far': FAR_FUTURE, ':now': Date.now() },
      }),
    );
    expect(await cache.read('ACME_PRD')).toEqual(token);
  });

  it('the state folder: the same edit to the token file changes nothing either', async () => {
    const folder = await FolderStateTable.open(await mkdtemp(path.join(tmpdir(), 'security-sealing-')));
    try {
      const cache = new FolderTokenCache({ table: folder, encryptor: LocalKeyEncryptor.fromKey(randomBytes(32)), log: capturingLog() });
      const token = issued();
      await cache.write('ACME_PRD', token);
      const pk = keyOf('token', 'ACME_PRD');
      await folder.change(pk, (partition) => partition.set('token', { ...partition.get('token')!, expiresAtMs: FAR_FUTURE, obtainedAtMs: Date.now() }));
      expect(await cache.read('ACME_PRD')).toEqual(token);
    } finally {
      await folder.close();
    }
  });

  it('a token sealed without its lifetime (by an earlier version) is not trusted: read as absent, so a new one is obtained', async () => {
    const table = await dynamo.createStateTable();
    const encryptor = LocalKeyEncryptor.fromKey(randomBytes(32));
    const log = capturingLog();
    const cache = new DynamoTokenCache({ documents: dynamo.documents, stateTableName: table, encryptor, log });
    const sealed = await encryptor.seal(JSON.stringify({ accessToken: 'old-format-token-0123456789' }), CONTEXT);
    await dynamo.documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: tokenCachePk('ACME_PRD'), sk: 'token' },
        UpdateExpression: 'SET sealed = :sealed, expiresAtMs = :far, obtainedAtMs = :now',
        ExpressionAttributeValues: { ':sealed': sealed, ':far': FAR_FUTURE, ':now': Date.now() },
      }),
    );
    expect(await cache.read('ACME_PRD')).toBeUndefined();
    expect(log.warnings().map((w) => w.message)).toEqual(['the cached ION API token cannot be opened; a new one will be obtained']);
  });
});
