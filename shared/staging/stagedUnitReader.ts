// Reads a staged unit back as a stream of records, verifying each file against the manifest
// (sha256 of the stored bytes and the record count) so a damaged or swapped file fails the unit.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { StagedRecord } from './stagedRecord.ts';
import { joinKey, type BlobStore } from './blobStore.ts';
import { MANIFEST_NAME, unitManifestSchema, type StagedFile, type UnitManifest } from './manifest.ts';
import { StagedDataError } from './stagingErrors.ts';


export async function readManifest(store: BlobStore, unitPrefix: string): Promise<UnitManifest> {
  const key = joinKey(unitPrefix, MANIFEST_NAME);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new StagedDataError(`${store.describe(key)} is not valid JSON; re-run the extraction of this unit`, { cause: error });
  }
  const parsed = unitManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StagedDataError(`${store.describe(key)} is not a valid manifest (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return parsed.data;
}

/** Yields every staged record of the unit, file by file; throws StagedDataError on any mismatch. */
export async function* readStagedRecords(store: BlobStore, unitPrefix: string, manifest: UnitManifest): AsyncGenerator<StagedRecord> {
  let total = 0;
  for (const file of manifest.files) {
    for await (const record of readStagedFile(store, unitPrefix, file)) {
      total += 1;
      yield record;
    }
  }
  if (total !== manifest.totalRecords) {
    throw new StagedDataError(`unit ${unitPrefix || '.'}: ${total} records in its files, the manifest says ${manifest.totalRecords}`);
  }
}

/** Yields the records of one part file, then checks its sha256, size and count against the manifest's entry. */
export async function* readStagedFile(store: BlobStore, unitPrefix: string, file: StagedFile): AsyncGenerator<StagedRecord> {
  const key = joinKey(unitPrefix, file.name);
  const raw = await store.get(key);
  const hash = createHash('sha256');
  let bytes = 0;
  raw.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  const lines = createInterface({ input: raw.pipe(gunzip), crlfDelay: Infinity });
  let count = 0;
  try {
    for await (const line of lines) {
      if (line === '') continue;
      count += 1;
      yield JSON.parse(line) as StagedRecord;
    }
  } catch (error) {
    throw new StagedDataError(`${store.describe(key)} cannot be read (${(error as Error).message}); it does not match its manifest`, { cause: error });
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== file.sha256 || bytes !== file.bytes) {
    throw new StagedDataError(`${store.describe(key)}: sha256 ${sha256} does not match the manifest's ${file.sha256}; the file changed after extraction`);
  }
  if (count !== file.records) {
    throw new StagedDataError(`${store.describe(key)}: ${count} records, the manifest says ${file.records}`);
  }
}
