import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { PartWriter } from '#shared/staging/partWriter.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import { StagedDataError } from '#shared/staging/stagingErrors.ts';
import type { UnitManifest } from '#shared/staging/manifest.ts';

async function stageUnit(lines: object[]) {
  const root = await mkdtemp(path.join(tmpdir(), 'staging-'));
  const store = new LocalFolderBlobStore(root);
  const writer = new PartWriter(store, 'u/part-00001.jsonl.gz', 'part-00001.jsonl.gz');
  for (const l of lines) await writer.write(JSON.stringify(l));
  const file = await writer.finish();
  const manifest: UnitManifest = {
    formatVersion: 1, tenant: 'T', entity: 'suppliers', company: '100', division: '', strategy: 'snapshot',
    window: { since: null, until: null }, runId: 'r', runStartedAt: 'a', startedAt: 'a', completedAt: 'b',
    sourceCall: { program: 'CRS620MI', transaction: 'LstSuppliers' }, files: [file], totalRecords: lines.length,
    maxChangeStamp: null, maxChangeDate: null,
  };
  await store.put('u/manifest.json', Readable.from([JSON.stringify(manifest)]));
  return { root, store, manifest };
}

async function readAll(gen: AsyncGenerator<unknown>) {
  const out = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('staged units', () => {
  it('writes gzip JSON lines whose checksum and count the reader verifies', async () => {
    const lines = [{ record: { SUNM: 'Ågren "Ö" | ; 株式会社' } }, { record: { CUAM: '123456789012.34' } }];
    const { root, store } = await stageUnit(lines);
    const text = gunzipSync(await readFile(path.join(root, 'u/part-00001.jsonl.gz'))).toString('utf8');
    expect(text.trim().split('\n').map((l) => JSON.parse(l))).toEqual(lines);
    const manifest = await readManifest(store, 'u');
    expect(await readAll(readStagedRecords(store, 'u', manifest))).toEqual(lines);
  });

  it('fails a unit whose file no longer matches its manifest', async () => {
    const { root, store } = await stageUnit([{ a: 1 }, { a: 2 }]);
    const { gzipSync } = await import('node:zlib');
    await writeFile(path.join(root, 'u/part-00001.jsonl.gz'), gzipSync('{"a":1}\n{"a":3}\n'));
    const manifest = await readManifest(store, 'u');
    await expect(readAll(readStagedRecords(store, 'u', manifest))).rejects.toThrow(StagedDataError);
    await expect(readAll(readStagedRecords(store, 'u', manifest))).rejects.toThrow(/does not match the manifest/);
  });

  it('fails when the manifest count differs from the records read', async () => {
    const { store, manifest } = await stageUnit([{ a: 1 }]);
    const wrong = { ...manifest, totalRecords: 2 };
    await expect(readAll(readStagedRecords(store, 'u', wrong))).rejects.toThrow(/1 records in its files, the manifest says 2/);
  });

  it('keeps keys inside the staging folder', async () => {
    const { store } = await stageUnit([]);
    await expect(store.put('../escape', Readable.from(['x']))).rejects.toThrow(/outside/);
  });
});
