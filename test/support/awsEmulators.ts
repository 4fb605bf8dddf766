// The AWS emulators in-process on random loopback ports (dynalite for DynamoDB, s3rver for S3), with
// real SDK clients built by the product's own client factories, so tests exercise the wire protocol.
import { enableS3rverContinuationTokens } from '../../infra/local/emulators/aws/localAwsEmulators.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { createDynamoDocumentClient, createS3Client, LOCAL_EMULATOR_CREDENTIALS } from '#shared/aws/clients.ts';
import { ensureStateTable } from '#shared/state/ensureStateTable.ts';

const REGION = 'eu-west-1';

export interface DynamoEmulator {
  endpoint: string;
  documents: DynamoDBDocumentClient;
  /** Creates a state table with a fresh name (tests isolate by table, not by emulator). */
  createStateTable(name?: string): Promise<string>;
  close(): Promise<void>;
}

export interface S3Emulator {
  endpoint: string;
  s3: S3Client;
  /** The folder s3rver stores objects in (removed on close). */
  directory: string;
  createBucket(name?: string): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;
function uniqueName(kind: string): string {
  counter += 1;
  return `${kind}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function startDynalite(): Promise<DynamoEmulator> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const documents = createDynamoDocumentClient({ endpoint, region: REGION, credentials: { ...LOCAL_EMULATOR_CREDENTIALS } });
  return {
    endpoint,
    documents,
    async createStateTable(name = uniqueName('state')) {
      await ensureStateTable(documents, name);
      return name;
    },
    async close() {
      // DynamoDBDocumentClient.destroy() is a no-op: drop the client's keep-alive sockets server-side.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export { enableS3rverContinuationTokens };

export async function startS3rver(): Promise<S3Emulator> {
  enableS3rverContinuationTokens();
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = createS3Client({ endpoint, region: REGION, credentials: { ...LOCAL_EMULATOR_CREDENTIALS } });
  return {
    endpoint,
    s3,
    directory,
    async createBucket(name = uniqueName('bucket')) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async close() {
      s3.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
