// CloudSuite connections in Lambda (Plan and Extract): the tenant's .ionapi JSON from Secrets Manager, its
// ION API token shared by all functions through the state table, sealed with the stack's KMS key.
import { createSecretsManagerClient } from '../../shared/aws/clients.ts';
import { DynamoTokenCache } from '../../shared/aws/dynamoTokenCache.ts';
import { KmsEnvelopeEncryptor } from '../../shared/aws/kmsEnvelopeEncryptor.ts';
import type { MiExecutor } from '../../shared/extract/miExecutor.ts';
import type { TenantCallOptions } from '../../shared/pipeline/pipelineDeps.ts';
import { logger } from '../../shared/observability/logger.ts';
import { tenantConnector } from '../../shared/pipeline/tenantConnections.ts';
import { SecretsManagerSecretSource } from '../../shared/secrets/secretsManagerSecretSource.ts';
import { awsStateTable, requiredEnv } from './awsState.ts';
import { ENV } from './environment.ts';
import { sdkKmsApi } from './kmsApi.ts';

let tenants: ReturnType<typeof tenantConnector> | undefined;

/** An MI client for `tenant` from its .ionapi JSON in this secret (token shared by every container); another tenant's file is refused. */
export function awsConnectTenant(secretName: string, tenant: string, options?: TenantCallOptions): Promise<MiExecutor> {
  tenants ??= tenantConnector(
    new SecretsManagerSecretSource({ client: createSecretsManagerClient() }),
    new DynamoTokenCache({ ...awsStateTable(), encryptor: new KmsEnvelopeEncryptor(sdkKmsApi(), requiredEnv(ENV.tokenCacheKey)) }),
    logger,
  );
  return tenants.connect(secretName, tenant, options);
}
