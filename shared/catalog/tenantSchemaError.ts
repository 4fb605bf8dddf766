// An entity that cannot be read on a tenant: its key, change-date or start-key field, or its table, is not
// there (shared/extract/resolveEntity.ts finds it; the run plan raises it for the entity's units before any
// data call). Retrying will not help: the message names the field and the change to make.
import { SyncError } from '../errors/syncError.ts';

export class TenantSchemaError extends SyncError {
  override name = 'TenantSchemaError';
}
