// The error for "the service is having trouble, try again later": thrown when a call's retry budget
// is spent. Step Functions retries it at a higher layer, so its name is part of the state machine's contract.

export class TransientError extends Error {
  override name = 'TransientError';
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
