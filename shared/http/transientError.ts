// The error for "the service is having trouble, try again later": thrown when a call's retry budget
// is spent. It is transient, so Step Functions retries the step at a higher layer (shared/pipeline/taskError.ts).
import { SyncError } from '../errors/syncError.ts';

export class TransientError extends SyncError {
  override name = 'TransientError';

  override get transient(): boolean {
    return true;
  }

  constructor(
    message: string,
    readonly details: {
      /** What was being done, e.g. "CRS620MI/LstSuppliers" or "ION API token request". */
      operation: string;
      /** HTTP status of the last failed attempt; undefined for network errors and timeouts. */
      lastStatus?: number;
      /** Attempts made, including the first. */
      attempts: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
  }

  get lastStatus(): number | undefined {
    return this.details.lastStatus;
  }
}
