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

/** merge: batches bound as JSON parameters; copy: COPY INTO from the staged files (the warehouse must read the bucket). */
export type LoadMode = 'merge' | 'copy';

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
  /** Default merge. Copy needs a store with warehouseUrl (S3 under an external location). */
  mode?: LoadMode;
  /**
   * Names the load's working table; stable across its continuations (the pipeline passes execution and table).
   * Default: a new random id, so two loads never share a working table.
   */
  loadId?: string;
  /** The checkpoint of the previous invocation of this load: staging continues where it stopped. */
  resume?: LoadCheckpoint;
  /**
   * Share of a snapshot unit's keys that may vanish at once before the unit is refused (default 0.05): a
   * refused unit is left out and reported, the other units load; when every unit is refused the load fails.
   */
  maxVanishedShare?: number;
  /**
   * write (default): the load writes its `_sync_control_totals` rows and drops its working table itself. defer:
   * it leaves both to the run's RefreshMarts step (shared/load/controlTotalsWriter.ts), three statements less.
   */
  controlTotals?: 'write' | 'defer';
  log?: Log;
}

export interface UnitLoadResult {
  unitId: string;
  records: number;
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
}

/** What a load found wrong at the source, for one company of the table. */
export interface CompanyQuality {
  company: string;
  /** Current rows whose content changed although their change stamp (LMDT/CHNO/LMTS) did not move. */
  changedWithoutNewStamp: number;
  /** Keys a complete read (snapshot, full, reconcile, sweep) no longer contained, now soft-deleted. */
  softDeleted: number;
}

/** A unit the load left out (its scope unchanged), with why: the caller fails it, the others commit. */
export interface RefusedUnit {
  unitId: string;
  reason: string;
  /** Which check refused it: too many vanished keys (the default), or control totals that differ. */
  kind?: 'vanished-keys' | 'control-totals';
}

export interface LoadTableResult {
  status: 'loaded';
  table: TargetTable;
  historyInserted: number;
  currentInserted: number;
  currentUpdated: number;
  currentSoftDeleted: number;
  /** Data quality per company: rows changed without a new change stamp, and keys soft-deleted (absent from a complete read). */
  quality: CompanyQuality[];
  statements: number;
  bytesSent: number;
  /** The units merged: their watermarks may move. */
  units: UnitLoadResult[];
  /** Units left out: too many of their keys would vanish at once, or their control totals differ. */
  refused: RefusedUnit[];
}

/** How far a load's staging got, per unit: files staged whole, and batches of the next file (merge mode). */
export interface UnitProgress {
  files: number;
  batches: number;
}

/** What a load that ran out of time keeps for its next invocation (the warehouse holds the staged rows). */
export interface LoadCheckpoint {
  formatVersion: 1;
  loadId: string;
  mode: LoadMode;
  /** The `_loaded_at` of every row of this load, whichever invocation staged it. */
  loadedAt: string;
  /** Invocations of this load so far. */
  invocations: number;
  units: Record<string, UnitProgress>;
  /** Once everything is staged: the steps after it that are done (each MERGE may need an invocation of its own). */
  merge?: MergeProgress;
}

export type MergeStep = 'quality' | 'current' | 'history' | 'softDeletes' | 'qualityRecord' | 'controlTotals';

export interface MergeProgress {
  /** Completeness and vanished keys checked; `refused` are out of the working table. */
  checked: boolean;
  refused: RefusedUnit[];
  steps: MergeStep[];
  counts: { currentInserted: number; currentUpdated: number; historyInserted: number; currentSoftDeleted: number };
  /** Per company (see CompanyQuality); absent in checkpoints written before it existed. */
  quality?: CompanyQuality[];
  /** Per complete unit, the keys the check found vanished: what the current MERGE soft-deletes (its figures). */
  vanished?: Record<string, number>;
}

/** A load that stopped before its deadline: staged so far, nothing merged; continue with the checkpoint. */
export interface LoadContinuation {
  status: 'continue';
  table: TargetTable;
  checkpoint: LoadCheckpoint;
  /** Records staged by all invocations so far. */
  stagedRecords: number;
  statements: number;
  bytesSent: number;
}

export type LoadOutcome = LoadTableResult | LoadContinuation;

/** The port to a SQL warehouse session: named parameters only, idempotent statements, retried inside. */
export interface WarehouseSession {
  execute(sql: string, params?: Record<string, WarehouseParam>, options?: { deadline?: Deadline }): Promise<Record<string, unknown>[]>;
  readonly stats: { statements: number; bytesSent: number };
  /**
   * The workspace the session speaks to (its host): loads remember what a look at its tables established
   * (rememberedLook.ts) under it. Absent: every load looks at the schema first.
   */
  readonly workspace?: string;
  close(): Promise<void>;
}

export type WarehouseParam = string | null | { type: 'DECIMAL' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | 'STRING'; value: string | null };
