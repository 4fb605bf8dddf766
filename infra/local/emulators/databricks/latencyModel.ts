// How long a statement would take on a real Databricks SQL warehouse, so benchmarks (and the local sync, if asked)
// can model one: a fixed cost per statement, a Delta commit for every statement that writes, and a cost per MiB
// written. Off unless an emulator is started with it. The defaults are assumptions drawn from public figures,
// not measurements of any warehouse (see README.md, "Latency model"); replace them with your warehouse's query
// history (system.query.history: total duration by statement type and bytes written).

export interface LatencyModel {
  /** Every statement: parse, plan, schedule and answer (metadata queries, SELECTs). */
  statementMs: number;
  /** Added for a statement that commits to a Delta table or the catalog (INSERT, MERGE, UPDATE, DELETE, COPY INTO, DDL). */
  commitMs: number;
  /** Added per MiB a statement writes (bound JSON for INSERT, files read by COPY INTO, rows written by MERGE/UPDATE/DELETE). */
  msPerMiB: number;
  /** Bytes per row written by MERGE/UPDATE/DELETE, for which the emulator knows only the row count. */
  bytesPerWrittenRow: number;
  /** sleep: each statement takes its modeled time (scaled by CLOUDSUITE_SYNC_TIME_SCALE); record: only logged. */
  mode: 'sleep' | 'record';
}

/**
 * A small serverless SQL warehouse: 0.3 s per statement ("hundreds of milliseconds to seconds per statement"),
 * 1.2 s more per commit (a committing statement ≈ 1.5 s, within the "~1–2 s per commit" reported for Delta
 * writes and the 1.5 s per statement infra/README.md's cost model assumes), 40 ms per MiB written (≈ 25 MiB/s
 * for one statement on a Small warehouse), 1,400 bytes per row (a staged GL transaction, as bench:load measures).
 */
export const PUBLIC_WAREHOUSE_LATENCY: Omit<LatencyModel, 'mode'> = { statementMs: 300, commitMs: 1200, msPerMiB: 40, bytesPerWrittenRow: 1400 };

const COMMITTING = /^\s*(INSERT|MERGE|UPDATE|DELETE|COPY|CREATE|ALTER|DROP)\b/i;

/** Whether a statement commits (to a Delta table or the catalog). */
export function commits(sql: string): boolean {
  return COMMITTING.test(sql);
}

/** Bytes a statement writes, for the model: what it carried or read for INSERT and COPY, rows × width otherwise. */
export function writtenBytes(sql: string, outcome: { parameterBytes: number; bytesRead?: number; rowsWritten?: number }, model: Pick<LatencyModel, 'bytesPerWrittenRow'>): number {
  if (!commits(sql)) return 0;
  if (/^\s*COPY/i.test(sql)) return outcome.bytesRead ?? 0;
  if (/^\s*INSERT/i.test(sql) && outcome.parameterBytes > 0) return outcome.parameterBytes;
  if (/^\s*(MERGE|UPDATE|DELETE|INSERT)/i.test(sql)) return (outcome.rowsWritten ?? 0) * model.bytesPerWrittenRow;
  return 0;
}

export function modeledMs(model: Omit<LatencyModel, 'mode'>, sql: string, bytes: number): number {
  return model.statementMs + (commits(sql) ? model.commitMs : 0) + (bytes / 2 ** 20) * model.msPerMiB;
}
