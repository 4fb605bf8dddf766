import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '#shared/aws/s3BlobStore.ts';
import { createS3Client, LOCAL_EMULATOR_CREDENTIALS } from '#shared/aws/clients.ts';
import { BlobNotFoundError, joinKey } from '#shared/staging/blobStore.ts';
import type { UnitManifest } from '#shared/staging/manifest.ts';
import { MANIFEST_NAME, partFileName } from '#shared/staging/manifest.ts';
import { PartWriter } from '#shared/staging/partWriter.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import { StagedDataError } from '#shared/staging/stagingErrors.ts';
import { startS3rver, type S3Emulator } from '../support/awsEmulators.ts';

const MIB = 1024 * 1024;

let s3: S3Emulator;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
});

async function newStore(prefix = 'staging'): Promise<S3BlobStore> {
  return new S3BlobStore({ client: s3.s3, bucket: await s3.createBucket(), prefix, partSizeBytes: 5 * MIB });
}

function unitPrefix(division: string): string {
  return joinKey('runs', 'ACME_PRD', 'run-20240501T020000Z-a1b2c3', 'supplierInvoiceLines', '100', division);
}

function manifestFor(files: UnitManifest['files'], division: string): UnitManifest {
  return {
    formatVersion: 1, tenant: 'ACME_PRD', entity: 'supplierInvoiceLines', company: '100', division, strategy: 'incremental', runStartedAt: '2026-11-20T02:00:00.000Z',
    window: { since: '20240425', until: null }, runId: 'run-20240501T020000Z-a1b2c3', startedAt: '2024-05-01T02:00:00.000Z',
    completedAt: '2024-05-01T02:03:00.000Z', sourceCall: { program: 'EXPORTMI', transaction: 'Select', table: 'FGINLI' },
    files, totalRecords: files.reduce((n, f) => n + f.records, 0), maxChangeStamp: null, maxChangeDate: null,
  };
}

async function readAll<T>(records: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of records) out.push(r);
  return out;
}

describe('S3BlobStore against s3rver', () => {
  it('stages a multi-MB gzip part in multipart uploads and reads it back verified against the manifest', async () => {
    const store = await newStore();
    const prefix = unitPrefix('');
    const key = joinKey(prefix, partFileName(1));
    const writer = new PartWriter(store, key, partFileName(1));
    const count = 14_000;
    // Random payloads barely compress, so the gzip object spans several 5 MiB parts.
    for (let i = 0; i < count; i++) await writer.write(JSON.stringify({ i, payload: randomBytes(600).toString('base64') }));
    const file = await writer.finish();
    expect(file.bytes).toBeGreaterThan(6 * MIB);
    await store.put(joinKey(prefix, MANIFEST_NAME), Readable.from([JSON.stringify(manifestFor([file], ''))]));

    const manifest = await readManifest(store, prefix);
    const records = await readAll(readStagedRecords(store, prefix, manifest));
    expect(records).toHaveLength(count);
    expect((records[count - 1] as unknown as { i: number }).i).toBe(count - 1);
    expect(await store.list(prefix)).toEqual([joinKey(prefix, MANIFEST_NAME), key]);
  });

  it('lays keys out as runs/{tenant}/{runId}/{entity}/{company}[/{division}] under the store prefix', async () => {
    const store = await newStore('staging/');
    for (const division of ['', 'AAA']) {
      const writer = new PartWriter(store, joinKey(unitPrefix(division), partFileName(1)), partFileName(1));
      await writer.write('{"a":1}');
      await writer.finish();
    }
    const run = joinKey('runs', 'ACME_PRD', 'run-20240501T020000Z-a1b2c3');
    expect(await store.list(run)).toEqual([
      'runs/ACME_PRD/run-20240501T020000Z-a1b2c3/supplierInvoiceLines/100/AAA/part-00001.jsonl.gz',
      'runs/ACME_PRD/run-20240501T020000Z-a1b2c3/supplierInvoiceLines/100/part-00001.jsonl.gz',
    ]);
    expect(store.describe(joinKey(unitPrefix('AAA'), partFileName(1)))).toBe(
      `s3://${store.bucket}/staging/runs/ACME_PRD/run-20240501T020000Z-a1b2c3/supplierInvoiceLines/100/AAA/part-00001.jsonl.gz`,
    );
  });

  it('lists more than 1000 keys across pages, sorted, and treats the prefix as a folder', async () => {
    const store = await newStore();
    const keys = Array.from({ length: 1_050 }, (_, i) => `u/part-${String(i).padStart(5, '0')}.jsonl.gz`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, Readable.from([key]))));
    }
    await store.put('u2/other.json', Readable.from(['{}']));
    const listed = await store.list('u');
    expect(listed).toHaveLength(1_050);
    expect(listed).toEqual([...keys].sort());
    expect(await store.list('')).toHaveLength(1_051);
    expect(await store.list('nothing-here')).toEqual([]);
  });

  it('rejects a missing key with BlobNotFoundError naming its s3:// location', async () => {
    const store = await newStore();
    const error = await store.get('runs/T/R/e/100/manifest.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobNotFoundError);
    expect((error as BlobNotFoundError).location).toBe(`s3://${store.bucket}/staging/runs/T/R/e/100/manifest.json`);
  });

  it('leaves no object behind when the writer aborts a large upload midway', async () => {
    const store = await newStore();
    const writer = new PartWriter(store, 'u/part-00001.jsonl.gz', partFileName(1));
    for (let i = 0; i < 12_000; i++) await writer.write(JSON.stringify({ payload: randomBytes(600).toString('base64') }));
    writer.abort(new Error('extraction failed'));
    await expect(writer.finish()).rejects.toThrow();
    expect(await store.list('u')).toEqual([]);
    await expect(store.get('u/part-00001.jsonl.gz')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('fails the read of a part replaced after staging (sha256 from the manifest, not S3 checksums)', async () => {
    const store = await newStore();
    const prefix = unitPrefix('');
    const writer = new PartWriter(store, joinKey(prefix, partFileName(1)), partFileName(1));
    await writer.write('{"a":1}');
    const file = await writer.finish();
    await store.put(joinKey(prefix, MANIFEST_NAME), Readable.from([JSON.stringify(manifestFor([file], ''))]));
    const other = new PartWriter(store, joinKey(prefix, partFileName(1)), partFileName(1));
    await other.write('{"a":2}');
    await other.finish();
    const manifest = await readManifest(store, prefix);
    await expect(readAll(readStagedRecords(store, prefix, manifest))).rejects.toBeInstanceOf(StagedDataError);
  });

  it('tells a missing object from a denied one when S3 answers 403 (a role whose listing is limited to plans/)', async () => {
    const bucket = await s3.createBucket();
    // S3 answers GetObject of a missing key with 403 unless the caller may list the bucket without a prefix condition.
    const client = createS3Client({ endpoint: s3.endpoint, region: 'eu-west-1', credentials: { ...LOCAL_EMULATOR_CREDENTIALS } });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        return next(args);
      },
      { step: 'initialize', name: 'denyGetObject' },
    );
    const store = new S3BlobStore({ client, bucket });
    await new S3BlobStore({ client: s3.s3, bucket }).put('plans/there.json', Readable.from(['{}']));
    await expect(store.get('plans/missing.json')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get('plans/there.json')).rejects.toMatchObject({ name: 'AccessDenied' });
    // A key that is a prefix of another is still missing.
    await expect(store.get('plans/there')).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
