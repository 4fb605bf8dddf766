// Errors that stop an extraction because continuing could lose or duplicate records.
import { SyncError } from '../errors/syncError.ts';

export class ExtractionError extends SyncError {
  override name = 'ExtractionError';
}

/** A paging cursor that would not move forward: the server did not honour the start key or conditions. */
export class CursorStuckError extends ExtractionError {
  override name = 'CursorStuckError';
}

/** EXPORTMI returned rows out of key order or outside the conditions asked for: key paging is unsafe. */
export class ExportResultError extends ExtractionError {
  override name = 'ExportResultError';
}

/** A single-call read reached its configured cap: the result may be truncated. */
export class ReadCapReachedError extends ExtractionError {
  override name = 'ReadCapReachedError';
}

/**
 * EXPORTMI pages still time out at the smallest page size: the query has no supporting index, or the
 * gateway's timeout is too short for this tenant. Transient (a busy tenant may answer later), with advice.
 */
export class SlowSourceError extends SyncError {
  override name = 'SlowSourceError';

  override get transient(): boolean {
    return true;
  }
}
