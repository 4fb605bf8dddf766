// DynamoDB (dynalite) and S3 (s3rver) in-process on loopback ports, optionally persisted to folders, with
// clients from the product's own factories: what the local sync runs the real state machine against.
// (Tests use test/support/awsEmulators.ts, which throws its data away.)
import crypto from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { createDynamoDocumentClient, createS3Client, LOCAL_EMULATOR_CREDENTIALS, LOCAL_EMULATOR_REGION } from '../../../../shared/aws/clients.ts';

export interface LocalDynamo {
  endpoint: string;
  documents: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export interface LocalS3 {
  endpoint: string;
  s3: S3Client;
  ensureBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/** dynalite; `dir` keeps its data (LevelDB) between runs, in memory without it. */
export async function startLocalDynamo(dir?: string): Promise<LocalDynamo> {
  if (dir) await mkdir(dir, { recursive: true });
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: dir } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const documents = createDynamoDocumentClient({ endpoint, region: LOCAL_EMULATOR_REGION, credentials: { ...LOCAL_EMULATOR_CREDENTIALS } });
  return {
    endpoint,
    documents,
    async close() {
      documents.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

let desPatched = false;

/**
 * s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+) only
 * has in its legacy provider, so listings of more than 1000 keys fail. Two-key triple DES with K‖K computes
 * exactly single DES and is in the default provider: 'des' is mapped onto it, only in processes that start
 * s3rver.
 */
export function enableS3rverContinuationTokens(): void {
  if (desPatched) return;
  desPatched = true;
  const createCipheriv = crypto.createCipheriv;
  const createDecipheriv = crypto.createDecipheriv;
  const asDesEde = (algorithm: string, key: crypto.CipherKey): [string, crypto.CipherKey] =>
    algorithm.toLowerCase() === 'des' && Buffer.isBuffer(key) && key.length === 8 ? ['des-ede-cbc', Buffer.concat([key, key])] : [algorithm, key];
  const patched = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', (...args: unknown[]) => unknown>;
  patched.createCipheriv = (algorithm: unknown, key: unknown, ...rest: unknown[]) =>
    (createCipheriv as (...args: unknown[]) => unknown)(...asDesEde(algorithm as string, key as crypto.CipherKey), ...rest);
  patched.createDecipheriv = (algorithm: unknown, key: unknown, ...rest: unknown[]) =>
    (createDecipheriv as (...args: unknown[]) => unknown)(...asDesEde(algorithm as string, key as crypto.CipherKey), ...rest);
}

/** s3rver storing its buckets in `dir` (kept between runs). */
export async function startLocalS3(dir: string): Promise<LocalS3> {
  enableS3rverContinuationTokens();
  await mkdir(dir, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, resetOnClose: false });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = createS3Client({ endpoint, region: LOCAL_EMULATOR_REGION, credentials: { ...LOCAL_EMULATOR_CREDENTIALS } });
  return {
    endpoint,
    s3,
    async ensureBucket(name) {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: name }));
      } catch {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      }
    },
    async close() {
      s3.destroy();
      await server.close();
    },
  };
}
