// The warehouse in Lambda (Load only): sessions of the official Databricks driver, opened from the
// connection secret in Secrets Manager, and the loader. The only module that brings the driver into a bundle.
import { createSecretsManagerClient } from '../../shared/aws/clients.ts';
import { loadTable } from '../../shared/load/loadTable.ts';
import { logger } from '../../shared/observability/logger.ts';
import type { PipelineDeps } from '../../shared/pipeline/pipelineDeps.ts';
import { openWarehouseSession, warehouseOpener } from '../../shared/pipeline/warehouseSessions.ts';
import { SecretsManagerSecretSource } from '../../shared/secrets/secretsManagerSecretSource.ts';

let warehouse: Pick<PipelineDeps, 'openWarehouse' | 'loadTable'> | undefined;

export function awsWarehouse(): Pick<PipelineDeps, 'openWarehouse' | 'loadTable'> {
  return (warehouse ??= {
    openWarehouse: warehouseOpener(new SecretsManagerSecretSource({ client: createSecretsManagerClient() }), (secret) =>
      openWarehouseSession(secret, { log: logger }),
    ),
    loadTable,
  });
}
