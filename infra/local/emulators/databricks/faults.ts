// Injected failures: the ways a real warehouse fails that a loader must survive. HTTP faults answer the RPC
// with that status before it is processed; `error-state` faults fail it the way the warehouse reports errors.

export type FaultedRpc = 'OpenSession' | 'ExecuteStatement' | 'FetchResults' | 'GetOperationStatus' | 'CloseSession';

export interface WarehouseFault {
  rpc: FaultedRpc;
  kind: 'http503' | 'http429' | 'http500' | 'error-state';
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
  take(rpc: FaultedRpc, kinds: 'http' | 'error-state', sql?: string): WarehouseFault | undefined {
    const index = this.active.findIndex(
      ({ fault, remaining }) =>
        remaining > 0 &&
        fault.rpc === rpc &&
        (kinds === 'http' ? fault.kind !== 'error-state' : fault.kind === 'error-state') &&
        (fault.matchSql === undefined || (sql !== undefined && fault.matchSql.test(sql))),
    );
    if (index === -1) return undefined;
    const entry = this.active[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active.splice(index, 1);
    return entry.fault;
  }
}
