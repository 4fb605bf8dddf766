// COPY INTO through the real driver, reading gzip JSON Lines from s3rver: what a loader relies on (files loaded
// once unless force, FILES/PATTERN, JSON and TEXT, typed SELECT, atomic failure) and what it must not do (read
// outside an external location, load an empty file).
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DBSQLClient } from '@databricks/sql';
import { connectToEmulator, s3ObjectStorage, startWarehouseEmulator, type WarehouseEmulator } from '#emulators/databricks/index.ts';
import { startS3rver, type S3Emulator } from '../../support/awsEmulators.ts';

type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

let s3: S3Emulator;
let bucket: string;
let emulator: WarehouseEmulator;
let client: DBSQLClient;
let session: Session;

async function execute(sql: string): Promise<Record<string, unknown>[]> {
  const op = await session.executeStatement(sql);
  try {
    await op.finished();
    return (await op.fetchAll()) as Record<string, unknown>[];
  } finally {
    await op.close();
  }
}

async function failure(sql: string): Promise<Error> {
  try {
    await execute(sql);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected "${sql}" to fail`);
}

async function put(key: string, lines: string[], gzip = key.endsWith('.gz')): Promise<void> {
  const text = lines.map((l) => `${l}\n`).join('');
  await s3.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzip ? gzipSync(text) : Buffer.from(text) }));
}

beforeAll(async () => {
  s3 = await startS3rver();
  bucket = await s3.createBucket();
  emulator = await startWarehouseEmulator({ storage: { objects: s3ObjectStorage(s3.s3), externalLocations: [`s3://${bucket}/staging`] } });
  ({ client } = await connectToEmulator(emulator));
  session = await client.openSession({ initialCatalog: 'main', initialSchema: 'default' });
});
afterAll(async () => {
  await session?.close();
  await client?.close();
  await emulator?.close();
  await s3?.close();
});

const invoice = (id: string, amount: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, amount, note: 'å "q"', ...extra });

describe('COPY INTO from the staging bucket', () => {
  it('loads gzip JSON Lines with every value as a string, typed in the SELECT, and skips loaded files unless force', async () => {
    await put('staging/u1/part-00001.jsonl.gz', [invoice('1', '123456789012345.67'), invoice('2', '-0.05').replace(/}$/, ',"n":1.10}')]);
    await put('staging/u1/part-00002.jsonl.gz', [invoice('3', '10.10')]);
    await execute('CREATE TABLE inv (id BIGINT, amount DECIMAL(17,2), note STRING, n STRING)');
    const copy = `COPY INTO inv FROM (SELECT CAST(id AS BIGINT) AS id, CAST(amount AS DECIMAL(17,2)) AS amount, note, n FROM 's3://${bucket}/staging/u1')
      FILEFORMAT = JSON FILES = ('part-00001.jsonl.gz', 'part-00002.jsonl.gz') FORMAT_OPTIONS ('primitivesAsString' = 'true')`;
    expect(await execute(copy)).toEqual([{ num_affected_rows: 3n, num_inserted_rows: 3n }]);
    expect(await execute(copy)).toEqual([{ num_affected_rows: 0n, num_inserted_rows: 0n }]);
    expect(await emulator.query('SELECT id, CAST(amount AS STRING) AS amount, note, n FROM inv ORDER BY id')).toEqual([
      { id: 1n, amount: '123456789012345.67', note: 'å "q"', n: null },
      { id: 2n, amount: '-0.05', note: 'å "q"', n: '1.10' }, // a JSON number's own text, not 1.1
      { id: 3n, amount: '10.10', note: 'å "q"', n: null },
    ]);
    expect(await execute(`${copy} COPY_OPTIONS ('force' = 'true')`)).toEqual([{ num_affected_rows: 3n, num_inserted_rows: 3n }]);
  });

  it('chooses files by FILES or by a glob PATTERN, and fails on a listed file that is not there', async () => {
    await put('staging/u2/part-00001.jsonl.gz', [invoice('1', '1')]);
    await put('staging/u2/part-00002.jsonl.gz', [invoice('2', '2')]);
    await put('staging/u2/manifest.json', ['{"not":"data"}']);
    await execute('CREATE TABLE picked (id STRING)');
    const from = `COPY INTO picked FROM (SELECT id FROM 's3://${bucket}/staging/u2') FILEFORMAT = JSON`;
    expect(await execute(`${from} PATTERN = 'part-*.jsonl.gz'`)).toEqual([{ num_affected_rows: 2n, num_inserted_rows: 2n }]);
    const missing = await failure(`${from} FILES = ('part-00009.jsonl.gz')`);
    expect(missing.message).toMatch(/^\[PATH_NOT_FOUND\].*part-00009/);
    const tooMany = await failure(`${from} FILES = (${Array.from({ length: 1001 }, (_, i) => `'f${i}'`).join(', ')})`);
    expect(tooMany.message).toMatch(/at most 1000/);
  });

  it('reads TEXT lines whole, and a failing value check loads nothing and marks no file loaded', async () => {
    await put('staging/u3/part-00001.jsonl.gz', [invoice('1', '5.00'), invoice('2', 'x')]);
    await execute('CREATE TABLE checked (id STRING, amount DECIMAL(9,2), line STRING)');
    const copy = `COPY INTO checked FROM (SELECT get_json_object(value, '$.id') AS id,
        CASE WHEN regexp_like(get_json_object(value, '$.amount'), '^-?[0-9]+([.][0-9]+)?$') THEN CAST(get_json_object(value, '$.amount') AS DECIMAL(9,2))
             ELSE raise_error(concat('invoice ', get_json_object(value, '$.id'), ': amount ', get_json_object(value, '$.amount'), ' is not a number')) END AS amount,
        value AS line FROM 's3://${bucket}/staging/u3') FILEFORMAT = TEXT FILES = ('part-00001.jsonl.gz')`;
    const error = await failure(copy);
    expect(error.message).toMatch(/^\[USER_RAISED_EXCEPTION\] invoice 2: amount x is not a number/);
    expect(await emulator.query('SELECT count(*) AS n FROM checked')).toEqual([{ n: 0n }]);
    await put('staging/u3/part-00001.jsonl.gz', [invoice('1', '5.00'), invoice('2', '6.00')]);
    expect(await execute(copy)).toEqual([{ num_affected_rows: 2n, num_inserted_rows: 2n }]);
    expect((await emulator.query("SELECT line FROM checked WHERE id = '2'"))[0]!.line).toBe(invoice('2', '6.00'));
  });

  it('refuses a location outside every external location, an empty file, and a malformed line in FAILFAST mode', async () => {
    await put('elsewhere/part-00001.jsonl.gz', [invoice('1', '1')]);
    await put('staging/u4/part-00001.jsonl.gz', []);
    await put('staging/u5/part-00001.jsonl', [invoice('1', '1'), '{"id": broken']);
    await execute('CREATE TABLE guarded (id STRING, amount STRING, note STRING, _corrupt_record STRING)');
    const outside = await failure(`COPY INTO guarded FROM 's3://${bucket}/elsewhere' FILEFORMAT = JSON`);
    expect(outside.message).toMatch(/^\[INSUFFICIENT_PERMISSIONS\].*READ FILES.*elsewhere/);
    expect((await failure(`COPY INTO guarded FROM 's3://${bucket}/staging/u4' FILEFORMAT = JSON`)).message).toMatch(/u4\/part-00001.jsonl.gz is empty/);
    const failfast = await failure(`COPY INTO guarded FROM 's3://${bucket}/staging/u5' FILEFORMAT = JSON FORMAT_OPTIONS ('mode' = 'FAILFAST')`);
    expect(failfast.message).toMatch(/^\[MALFORMED_RECORD_IN_PARSING\]/);
    // PERMISSIVE (the default) keeps the malformed line in _corrupt_record.
    expect(await execute(`COPY INTO guarded FROM 's3://${bucket}/staging/u5' FILEFORMAT = JSON`)).toEqual([{ num_affected_rows: 2n, num_inserted_rows: 2n }]);
    expect(await emulator.query('SELECT id, _corrupt_record FROM guarded ORDER BY id NULLS LAST')).toEqual([
      { id: '1', _corrupt_record: null },
      { id: null, _corrupt_record: '{"id": broken' },
    ]);
  });

  it('converges to exactly once when the answer to a COPY INTO is lost and it is sent again', async () => {
    await put('staging/u6/part-00001.jsonl.gz', [invoice('1', '1'), invoice('2', '2')]);
    await execute('CREATE TABLE once (id STRING)');
    const copy = `COPY INTO once FROM (SELECT id FROM 's3://${bucket}/staging/u6') FILEFORMAT = JSON`;
    emulator.injectFault({ rpc: 'ExecuteStatement', kind: 'lost-answer', matchSql: /^COPY INTO once/ });
    await expect(execute(copy)).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(await execute(copy)).toEqual([{ num_affected_rows: 0n, num_inserted_rows: 0n }]);
    expect(await emulator.query('SELECT count(*) AS n FROM once')).toEqual([{ n: 2n }]);
  });
});
