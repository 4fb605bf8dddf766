// Where a local sync keeps its state (run ledger, watermarks, table leases, the sealed ION API token) and its
// staged files, in the state folder, behind the same ports as in AWS:
//   - with the bundled emulators on both sides: DynamoDB and S3 served by dynalite and s3rver (the AWS
//     adapters over the wire, as the Lambdas use them; the chaos tests inject faults into their clients);
//   - with a real tenant or warehouse: plain files (shared/state/folderStateTable.ts, locked to one process,
//     and LocalFolderBlobStore), so a run against real systems loads no emulator.
// The two keep separate data (state/ + staging/, or dynamodb/ + s3/), so a state folder used both ways has
// two independent histories.
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenCache, tokenCachePk } from '../../shared/aws/dynamoTokenCache.ts';
import { LocalKeyEncryptor } from '../../shared/aws/encryptor.ts';
import { S3BlobStore } from '../../shared/aws/s3BlobStore.ts';
import type { TokenCache } from '../../shared/ionapi/tokenCache.ts';
import type { Log } from '../../shared/observability/logger.ts';
import { pipelineState, type PipelineState } from '../../shared/pipeline/pipelineState.ts';
import { LocalFolderBlobStore } from '../../shared/staging/localFolderBlobStore.ts';
import { dynamoSyncState } from '../../shared/state/dynamoSyncState.ts';
import { ensureStateTable } from '../../shared/state/ensureStateTable.ts';
import { FolderStateTable } from '../../shared/state/folderStateTable.ts';
import { folderSyncState } from '../../shared/state/folderSyncState.ts';
import { FolderTokenCache } from '../../shared/state/folderTokenCache.ts';

export const STATE_TABLE = 'cloudsuite-sync-state';
export const STAGING_BUCKET = 'cloudsuite-sync-staging';

/** dynalite + s3rver (the emulator path) or plain files (a real system in the run). */
export type LocalStateKind = 'emulated-aws' | 'files';

export interface LocalState {
  state: PipelineState;
  /** The shared ION API token cache, sealed with the state folder's key file. */
  tokens: TokenCache;
  /** Drops a tenant's cached token (the CloudSuite emulator forgets the tokens it issued when it restarts). */
  forgetToken(tenant: string): Promise<void>;
  /** The SDK clients behind state and staging: on the emulator path only (chaos tests add fault middleware). */
  aws?: { s3: S3Client; documents: DynamoDBDocumentClient };
  close(): Promise<void>;
}

/** The key that seals cached tokens, whichever state is in use. */
const tokenKeyFile = (stateDir: string) => path.join(stateDir, 'token-cache.key');

export function openLocalState(stateDir: string, kind: LocalStateKind, log: Log): Promise<LocalState> {
  return kind === 'emulated-aws' ? startEmulatedAwsState(stateDir, log) : openFileState(stateDir, log);
}

async function startEmulatedAwsState(stateDir: string, log: Log): Promise<LocalState> {
  // Loaded here only: a run against real systems never loads dynalite or s3rver.
  const { startLocalDynamo, startLocalS3 } = await import('./emulators/aws/localAwsEmulators.ts');
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const dynamo = await startLocalDynamo(path.join(stateDir, 'dynamodb'));
    closers.push(() => dynamo.close());
    const s3 = await startLocalS3(path.join(stateDir, 's3'));
    closers.push(() => s3.close());
    await ensureStateTable(dynamo.documents, STATE_TABLE);
    await s3.ensureBucket(STAGING_BUCKET);
    const table = { documents: dynamo.documents, stateTableName: STATE_TABLE };
    return {
      state: pipelineState(dynamoSyncState(table), new S3BlobStore({ client: s3.s3, bucket: STAGING_BUCKET })),
      tokens: new DynamoTokenCache({ ...table, encryptor: await LocalKeyEncryptor.fromKeyFile(tokenKeyFile(stateDir)), log }),
      forgetToken: async (tenant) => {
        await dynamo.documents.send(new DeleteCommand({ TableName: STATE_TABLE, Key: { pk: tokenCachePk(tenant), sk: 'token' } }));
      },
      aws: { s3: s3.s3, documents: dynamo.documents },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openFileState(stateDir: string, log: Log): Promise<LocalState> {
  const table = await FolderStateTable.open(path.join(stateDir, 'state'));
  try {
    const tokens = new FolderTokenCache({ table, encryptor: await LocalKeyEncryptor.fromKeyFile(tokenKeyFile(stateDir)), log });
    return {
      state: pipelineState(folderSyncState({ table }), new LocalFolderBlobStore(path.join(stateDir, 'staging'))),
      tokens,
      forgetToken: (tenant) => tokens.forget(tenant),
      close: () => table.close(),
    };
  } catch (error) {
    await table.close();
    throw error;
  }
}
