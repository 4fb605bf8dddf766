// Errors of loading staged units into the warehouse. Each names the table, unit, record or statement and
// what to do; none carries a warehouse token.
import { SyncError } from '../errors/syncError.ts';

/** A load that cannot go on without changing something: a schema conflict, an incomplete stage. */
export class LoadError extends SyncError {
  override name = 'LoadError';
}

/** Too many of a snapshot unit's keys would be marked deleted at once: the unit is refused, nothing of it loaded. */
export class VanishedKeysError extends LoadError {
  override name = 'VanishedKeysError';
}

/**
 * What the warehouse is about to merge differs from what was staged (a record count or an amount sum, for one
 * unit and period): the unit is refused, nothing of it merged; the message names unit, period and field.
 */
export class ControlTotalError extends LoadError {
  override name = 'ControlTotalError';
}

/**
 * A statement found a table, schema or column other than the remembered look said (dropped or altered outside
 * the sync): transient, because the look is forgotten and the retried load looks again and repairs it.
 */
export class TableChangedError extends LoadError {
  override name = 'TableChangedError';

  override get transient(): boolean {
    return true;
  }
}

/** A staged value the warehouse could not hold exactly (a malformed number or date): never loaded as NULL or rounded. */
export class RecordValueError extends SyncError {
  override name = 'RecordValueError';
}

/** A statement the warehouse refused; the message keeps the Databricks error class and SQLSTATE. */
export class WarehouseError extends SyncError {
  override name = 'WarehouseError';
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The warehouse was busy or briefly unavailable (429/5xx, a reset, still starting, a concurrent append)
 * after the session's own retries: transient, so Step Functions tries the step again later.
 */
export class WarehouseUnavailableError extends WarehouseError {
  override name = 'WarehouseUnavailableError';

  override get transient(): boolean {
    return true;
  }
}
