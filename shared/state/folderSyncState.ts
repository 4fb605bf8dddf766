// The three state ports over one folder state table (folderStateTable.ts): the counterpart of
// dynamoSyncState.ts for the local sync against real systems.
import type { FolderStateTable } from './folderStateTable.ts';
import { FolderRunLedger } from './folderRunLedger.ts';
import { FolderTableLease } from './folderTableLease.ts';
import { FolderWatermarkStore } from './folderWatermarkStore.ts';
import type { RunLedger } from './runLedger.ts';
import type { TableLease } from './tableLease.ts';
import type { WatermarkStore } from './watermarkStore.ts';

export function folderSyncState(options: { table: FolderStateTable; now?: () => number }): { ledger: RunLedger; watermarks: WatermarkStore; leases: TableLease } {
  return { ledger: new FolderRunLedger(options), watermarks: new FolderWatermarkStore(options), leases: new FolderTableLease(options) };
}
