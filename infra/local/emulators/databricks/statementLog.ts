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
}

/** Size of a statement as the warehouse limit counts it. */
export function statementBytes(sql: string, parameterBytes: number): number {
  return Buffer.byteLength(sql, 'utf8') + parameterBytes;
}
