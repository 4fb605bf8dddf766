// The collaborators of the pipeline's steps, as ports: the Lambdas wire AWS adapters (functions/support),
// the local sync wires the same adapters to dynalite and s3rver, or the state folder's adapters when a real
// system is in the run (infra/local/localState.ts), tests wire fakes where they need to. Each step takes only the part it uses (Pick<PipelineDeps, ...>).
import type { MiExecutor } from '../extract/miExecutor.ts';
import type { LoadTableRequest, LoadOutcome, WarehouseSession } from '../load/loadTypes.ts';
import type { Log } from '../observability/logger.ts';
import type { BlobStore } from '../staging/blobStore.ts';
import type { RunLedger } from '../state/runLedger.ts';
import type { TableLease } from '../state/tableLease.ts';
import type { WatermarkStore } from '../state/watermarkStore.ts';
import type { PipelineMetrics } from './pipelineMetrics.ts';
import type { PlanStore } from './runPlan.ts';

/** How one step calls a tenant: its share of the tenant's call budget and the per-attempt timeout. */
export interface TenantCallOptions {
  maxRequestsPerSecond?: number;
  attemptTimeoutMs?: number;
}

export type TableLoader = (request: LoadTableRequest) => Promise<LoadOutcome>;

export interface PipelineDeps {
  ledger: RunLedger;
  watermarks: WatermarkStore;
  leases: TableLease;
  /** The staging bucket: plans/ and runs/. */
  store: BlobStore;
  plans: PlanStore;
  /**
   * An MI client for the tenant whose .ionapi JSON is in this secret, with its own pacing and timeout (the
   * token is shared per tenant: one per warm process, and across processes through the token cache). Refuses
   * the secret (TenantSecretMismatchError) unless its "ti" is `tenant`, the configured tenant id.
   */
  connectTenant(secretName: string, tenant: string, options?: TenantCallOptions): Promise<MiExecutor>;
  /** A new warehouse session from the connection secret; the caller closes it. */
  openWarehouse(secretName: string): Promise<WarehouseSession>;
  loadTable: TableLoader;
  metrics: PipelineMetrics;
  log: Log;
  /** Epoch ms. */
  now(): number;
}
