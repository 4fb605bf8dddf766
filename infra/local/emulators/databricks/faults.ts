// Injected failures: the ways a real warehouse fails that a loader must survive. HTTP faults answer the RPC
// with that status before it is processed; `error-state` faults fail it the way the warehouse reports errors.

export type FaultedRpc = 'OpenSession' | 'ExecuteStatement' | 'FetchResults' | 'GetOperationStatus' | 'CloseSession';

export interface WarehouseFault {
  rpc: FaultedRpc;
  /**
   * http503/429/500: the RPC is answered with that status before anything runs. error-state: it fails the way the
   * warehouse reports errors. lost-answer (ExecuteStatement only): the statement runs to completion, then the
   * connection is dropped without an answer, as when a network path fails after the warehouse committed.
   */
  kind: 'http503' | 'http429' | 'http500' | 'error-state' | 'lost-answer';
  /** How many matching calls fail (default 1; Infinity until cleared). */
  count?: number;
  /** For error-state faults (defaults: INTERNAL_ERROR / XX000). */
  errorClass?: string;
  sqlState?: string;
  /** Only calls whose statement matches (ExecuteStatement, and FetchResults/GetOperationStatus of its operation). */
  matchSql?: RegExp;
}

export const HTTP_STATUS_OF_FAULT = { http503: 503, http429: 429, http500: 500 } as const;

interface ActiveFault {
  readonly fault: WarehouseFault;
  remaining: number;
}

export class FaultRegistry {
  private readonly active: ActiveFault[] = [];

  inject(fault: WarehouseFault): void {
    this.active.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
  }

  clear(): void {
    this.active.length = 0;
  }

  /** Consumes the first fault of one of `kinds` that applies to this call, if any. */
  take(rpc: FaultedRpc, kinds: 'http' | 'error-state' | 'lost-answer', sql?: string): WarehouseFault | undefined {
    const index = this.active.findIndex(
      ({ fault, remaining }) =>
        remaining > 0 &&
        fault.rpc === rpc &&
        (kinds === 'http' ? fault.kind in HTTP_STATUS_OF_FAULT : fault.kind === kinds) &&
        (fault.matchSql === undefined || (sql !== undefined && fault.matchSql.test(sql))),
    );
    if (index === -1) return undefined;
    const entry = this.active[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active.splice(index, 1);
    return entry.fault;
  }
}
