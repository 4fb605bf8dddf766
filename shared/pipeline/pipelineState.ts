// The state and staging half of the pipeline's collaborators, composed in one place for every runtime: the
// Lambdas (DynamoDB + S3, functions/support/awsState.ts), the local sync (dynalite + s3rver on the emulator
// path, files in the state folder with real systems) and the tests. Only the adapters differ.
import type { BlobStore } from '../staging/blobStore.ts';
import type { PipelineDeps } from './pipelineDeps.ts';
import { PlanStore } from './runPlan.ts';

/** The run ledger, watermarks and table leases: the sync's state, over one store. */
export type SyncState = Pick<PipelineDeps, 'ledger' | 'watermarks' | 'leases'>;

export type PipelineState = SyncState & Pick<PipelineDeps, 'store' | 'plans'>;

/** The state ports with the staging store (plans/ and runs/) and the plans kept in it. */
export function pipelineState(state: SyncState, store: BlobStore): PipelineState {
  return { ledger: state.ledger, watermarks: state.watermarks, leases: state.leases, store, plans: new PlanStore(store) };
}
