// What the warehouse executed, for assertions: every statement that reached execution (or was failed by an
// error-state fault), with its parameters, the DuckDB SQL it became, and its outcome.

export interface StatementLogEntry {
  sessionId: string;
  sql: string;
  parameters: Record<string, unknown> | unknown[];
  translatedSql: string;
  ok: boolean;
  error?: string;
  sqlState?: string;
  /** Rows returned, or rows written by INSERT/UPDATE/DELETE/MERGE. */
  rows?: number;
  /** UTF-8 bytes of the statement text plus its parameter values (what the size limit counts). */
  bytes: number;
  startedAt: number;
  ms: number;
  /** Bytes the statement wrote, as the latency model counts them (INSERT parameters, COPY INTO files, rows × width). */
  writtenBytes?: number;
  /** What the statement would take on a real warehouse under the emulator's latency model, when one is set. */
  modeledMs?: number;
}

/** Size of a statement as the warehouse limit counts it. */
export function statementBytes(sql: string, parameterBytes: number): number {
  return Buffer.byteLength(sql, 'utf8') + parameterBytes;
}
