// Errors of the staged-unit format: a unit that cannot be staged or read back as complete and exact.
import { SyncError } from '../errors/syncError.ts';

/** A record that cannot be staged: continuing could lose or duplicate records. */
export class StagedRecordError extends SyncError {
  override name = 'StagedRecordError';
}

/** Two records with the same key in one unit: never deduplicated silently (it could drop money). */
export class DuplicateKeyError extends StagedRecordError {
  override name = 'DuplicateKeyError';
}

/**
 * A record whose key has a blank field other than DIVI (blank on company-level records): it cannot be told
 * apart from other records with the same gap, and would upsert over them (found by test/hostile).
 */
export class BlankKeyError extends StagedRecordError {
  override name = 'BlankKeyError';
}

/** A staged file or manifest that does not match what was written: the unit must be extracted again. */
export class StagedDataError extends SyncError {
  override name = 'StagedDataError';
}
