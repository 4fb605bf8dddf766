// An entity that cannot be read on a tenant: its key, change-date or start-key field, or its table, is not
// there (shared/extract/resolveEntity.ts finds it; the run plan raises it for the entity's units before any
// data call). Retrying the step will not help: the message names the field and the change to make; a rerun
// reads the tenant's fields again (a field list cut short by a gateway is read whole the next time).
import { SyncError } from '../errors/syncError.ts';

export class TenantSchemaError extends SyncError {
  override name = 'TenantSchemaError';
}
