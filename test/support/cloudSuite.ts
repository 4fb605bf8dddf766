// Test helpers around the CloudSuite emulator: a connected MI client and reading staged units back.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectCloudSuite, type ConnectOptions } from '#shared/cloudsuite/cloudSuiteConnection.ts';
import { parseIonApiFile } from '#shared/ionapi/ionApiFile.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import type { StagedRecord } from '#shared/staging/stagedRecord.ts';
import type { CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import type { Log } from '#shared/observability/logger.ts';

export function connectTo(emulator: CloudSuiteEmulator, log?: Log, options: Omit<ConnectOptions, 'log'> = {}) {
  const config = parseIonApiFile(JSON.stringify(emulator.ionapi), 'emulator.ionapi');
  return connectCloudSuite(config, { ...options, ...(log ? { log } : {}) });
}

export async function tempStore(): Promise<LocalFolderBlobStore> {
  return new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'cs-extract-')));
}

export async function stagedRecords(store: LocalFolderBlobStore, unitPrefix: string): Promise<StagedRecord[]> {
  const manifest = await readManifest(store, unitPrefix);
  const out: StagedRecord[] = [];
  for await (const r of readStagedRecords(store, unitPrefix, manifest)) out.push(r);
  return out;
}

export { capturingLog } from '../ionapi/support.ts';
