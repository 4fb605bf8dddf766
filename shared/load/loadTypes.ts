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
  /**
   * Share of a snapshot unit's keys that may vanish at once before the unit is refused (default 0.05): a
   * refused unit is left out and reported, the other units load; when every unit is refused the load fails.
   */
  maxVanishedShare?: number;
  log?: Log;
}

export interface UnitLoadResult {
  unitId: string;
  records: number;
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
}

/** A unit the load left out (its scope unchanged), with why: the caller fails it, the others commit. */
export interface RefusedUnit {
  unitId: string;
  reason: string;
}

export interface LoadTableResult {
  table: TargetTable;
  historyInserted: number;
  currentInserted: number;
  currentUpdated: number;
  currentSoftDeleted: number;
  statements: number;
  bytesSent: number;
  /** The units merged: their watermarks may move. */
  units: UnitLoadResult[];
  /** Snapshot units left out because too many of their keys would vanish at once. */
  refused: RefusedUnit[];
}

/** The port to a SQL warehouse session: named parameters only, idempotent statements, retried inside. */
export interface WarehouseSession {
  execute(sql: string, params?: Record<string, WarehouseParam>, options?: { deadline?: Deadline }): Promise<Record<string, unknown>[]>;
  readonly stats: { statements: number; bytesSent: number };
  close(): Promise<void>;
}

export type WarehouseParam = string | null | { type: 'DECIMAL' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | 'STRING'; value: string | null };
