// How a step calls a tenant, from its settings: the per-attempt timeout, and the pace. Plan calls alone and
// may use the tenant's whole budget; each extraction gets the share Plan worked out (unitCallsPerSecond):
// the budget divided by the extractions of that tenant that the Map can run at once, so concurrent Extract
// Lambdas together stay under the licence without talking to each other.
import type { TenantCallOptions } from './pipelineDeps.ts';

export interface TenantCallSettings {
  callsPerSecond?: number;
  unitCallsPerSecond?: number;
  attemptTimeoutSeconds?: number;
}

/** The options of a call made on behalf of one unit ('unit') or of the whole run (Plan). */
export function tenantCallOptions(tenant: TenantCallSettings, share: 'run' | 'unit' = 'run'): TenantCallOptions {
  const rate = share === 'unit' ? tenant.unitCallsPerSecond : tenant.callsPerSecond;
  return {
    ...(rate ? { maxRequestsPerSecond: rate } : {}),
    ...(tenant.attemptTimeoutSeconds ? { attemptTimeoutMs: tenant.attemptTimeoutSeconds * 1000 } : {}),
  };
}

/** Each extraction's share of a tenant's budget when `units` of its units may run `maxConcurrency` at a time. */
export function unitShare(callsPerSecond: number, units: number, maxConcurrency: number): number {
  return callsPerSecond / Math.max(1, Math.min(units, maxConcurrency));
}
