// The contract of the load step: one target table, the staged units that feed it, and what a load
// reports back (counts only). The pipeline's Load handler and the CLI's `load` command call
// `loadTable` (shared/load/loadTable.ts) with this shape.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { BlobStore } from '../staging/blobStore.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { Log } from '../observability/logger.ts';

export interface TargetTable {
  catalog: string;
  schema: string;
  /** Current-state table name; history goes to `<name>_history`. */
  name: string;
}

export interface StagedUnitRef {
  unitId: string;
  /** Folder of the unit's manifest.json and part files in the blob store. */
  unitPrefix: string;
}

export interface LoadTableRequest {
  tenant: string;
  entity: EntityDefinition;
  table: TargetTable;
  units: StagedUnitRef[];
  runId: string;
  store: BlobStore;
  /** An open warehouse session (the real @databricks/sql driver behind a small port). */
  warehouse: WarehouseSession;
  deadline?: Deadline;
  /** Share of a snapshot unit's keys that may vanish at once before the unit fails (default 0.05). */
  maxVanishedShare?: number;
  log?: Log;
}

export interface UnitLoadResult {
  unitId: string;
  records: number;
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
}

export interface LoadTableResult {
  table: TargetTable;
  historyInserted: number;
  currentInserted: number;
  currentUpdated: number;
  currentSoftDeleted: number;
  statements: number;
  bytesSent: number;
  units: UnitLoadResult[];
}

/** The port to a SQL warehouse session: named parameters only, idempotent statements, retried inside. */
export interface WarehouseSession {
  execute(sql: string, params?: Record<string, WarehouseParam>, options?: { deadline?: Deadline }): Promise<Record<string, unknown>[]>;
  readonly stats: { statements: number; bytesSent: number };
  close(): Promise<void>;
}

export type WarehouseParam = string | null | { type: 'DECIMAL' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | 'STRING'; value: string | null };
