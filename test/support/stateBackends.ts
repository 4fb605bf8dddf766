// The two adapters of the state ports, for contract tests that run against both: DynamoDB (on dynalite, as in
// AWS and on the local sync's emulator path) and the folder state table (the local sync with real systems).
// Each hands out fresh, empty state and adapters over it with a given clock; several adapters of one state
// see the same items, as several Lambdas see one table.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenCache } from '#shared/aws/dynamoTokenCache.ts';
import type { Encryptor } from '#shared/aws/encryptor.ts';
import type { TokenCache } from '#shared/ionapi/tokenCache.ts';
import type { Log } from '#shared/observability/logger.ts';
import { dynamoSyncState } from '#shared/state/dynamoSyncState.ts';
import { FolderStateTable } from '#shared/state/folderStateTable.ts';
import { folderSyncState } from '#shared/state/folderSyncState.ts';
import { FolderTokenCache } from '#shared/state/folderTokenCache.ts';
import type { RunLedger } from '#shared/state/runLedger.ts';
import type { TableLease } from '#shared/state/tableLease.ts';
import type { WatermarkStore } from '#shared/state/watermarkStore.ts';
import { startDynalite, type DynamoEmulator } from './awsEmulators.ts';

type Clock = () => number;

export interface StateUnderTest {
  ledger(now?: Clock): RunLedger;
  watermarks(now?: Clock): WatermarkStore;
  leases(now?: Clock): TableLease;
  tokens(options: { encryptor: Encryptor; now?: Clock; log?: Log }): TokenCache;
  /** The stored item as the adapter wrote it (pk, sk as in shared/state/stateTable.ts). */
  rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined>;
}

export interface StateBackend {
  name: string;
  /** Fresh, empty state: a new table, or a new folder. */
  fresh(): Promise<StateUnderTest>;
  close(): Promise<void>;
}

const withClock = (now: Clock | undefined) => (now ? { now } : {});

function dynamoBackend(): StateBackend {
  let dynamo: Promise<DynamoEmulator> | undefined;
  return {
    name: 'DynamoDB (dynalite)',
    async fresh() {
      const emulator = await (dynamo ??= startDynalite());
      const table = { documents: emulator.documents, stateTableName: await emulator.createStateTable() };
      return {
        ledger: (now) => dynamoSyncState({ ...table, ...withClock(now) }).ledger,
        watermarks: (now) => dynamoSyncState({ ...table, ...withClock(now) }).watermarks,
        leases: (now) => dynamoSyncState({ ...table, ...withClock(now) }).leases,
        tokens: (options) => new DynamoTokenCache({ ...table, ...options }),
        rawItem: async (pk, sk) => (await emulator.documents.send(new GetCommand({ TableName: table.stateTableName, Key: { pk, sk } }))).Item,
      };
    },
    async close() {
      await (await dynamo)?.close();
    },
  };
}

function folderBackend(): StateBackend {
  const opened: FolderStateTable[] = [];
  return {
    name: 'state folder',
    async fresh() {
      const table = await FolderStateTable.open(await mkdtemp(path.join(tmpdir(), 'folder-state-')));
      opened.push(table);
      return {
        ledger: (now) => folderSyncState({ table, ...withClock(now) }).ledger,
        watermarks: (now) => folderSyncState({ table, ...withClock(now) }).watermarks,
        leases: (now) => folderSyncState({ table, ...withClock(now) }).leases,
        tokens: (options) => new FolderTokenCache({ table, ...options }),
        rawItem: (pk, sk) => table.get(pk, sk),
      };
    },
    async close() {
      for (const table of opened.splice(0)) {
        await table.close();
        await rm(table.dir, { recursive: true, force: true });
      }
    },
  };
}

/** Both adapters; pass to describe.each and close each backend in afterAll. */
export function stateBackends(): StateBackend[] {
  return [dynamoBackend(), folderBackend()];
}
