// Errors that stop an extraction because continuing could lose or duplicate records.

export class ExtractionError extends Error {
  override name = 'ExtractionError';
}

/** Two records with the same key in one extraction: never deduplicated silently (it could drop money). */
export class DuplicateKeyError extends ExtractionError {
  override name = 'DuplicateKeyError';
}

/**
 * A record whose key has a blank field other than DIVI (blank on company-level records): it cannot be told
 * apart from other records with the same gap, and would upsert over them. Added by the hostile-input tests
 * (test/hostile): before, such a record was staged and loaded under a key like ["100",""].
 */
export class BlankKeyError extends ExtractionError {
  override name = 'BlankKeyError';
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
