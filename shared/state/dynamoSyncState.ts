// The three state ports over one DynamoDB state table (stateTable.ts): what the Lambdas, the local sync on
// dynalite and the tests build, so no caller wires the adapters one by one.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRunLedger } from './dynamoRunLedger.ts';
import { DynamoTableLease } from './dynamoTableLease.ts';
import { DynamoWatermarkStore } from './dynamoWatermarkStore.ts';
import type { RunLedger } from './runLedger.ts';
import type { TableLease } from './tableLease.ts';
import type { WatermarkStore } from './watermarkStore.ts';

export interface DynamoSyncStateOptions {
  documents: DynamoDBDocumentClient;
  stateTableName: string;
  now?: () => number;
}

export function dynamoSyncState(options: DynamoSyncStateOptions): { ledger: RunLedger; watermarks: WatermarkStore; leases: TableLease } {
  return { ledger: new DynamoRunLedger(options), watermarks: new DynamoWatermarkStore(options), leases: new DynamoTableLease(options) };
}
