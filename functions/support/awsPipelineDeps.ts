// The pipeline's collaborators in Lambda, built once per warm container from the environment the stack
// sets: the state table, the staging bucket, the KMS key of the token cache. Clients come from
// shared/aws/clients.ts; logs and metrics go through Powertools.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoDocumentClient, createS3Client, createSecretsManagerClient } from '../../shared/aws/clients.ts';
import { DynamoTokenCache } from '../../shared/aws/dynamoTokenCache.ts';
import { KmsEnvelopeEncryptor } from '../../shared/aws/kmsEnvelopeEncryptor.ts';
import { S3BlobStore } from '../../shared/aws/s3BlobStore.ts';
import { ConfigError } from '../../shared/config/configError.ts';
import { logger } from '../../shared/observability/logger.ts';
import { loadTable } from '../../shared/load/loadTable.ts';
import type { PipelineDeps } from '../../shared/pipeline/pipelineDeps.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, PowertoolsPipelineMetrics } from '../../shared/pipeline/pipelineMetrics.ts';
import { PlanStore } from '../../shared/pipeline/runPlan.ts';
import { tenantConnector } from '../../shared/pipeline/tenantConnections.ts';
import { openWarehouseSession, warehouseOpener } from '../../shared/pipeline/warehouseSessions.ts';
import { SecretsManagerSecretSource } from '../../shared/secrets/secretsManagerSecretSource.ts';
import { DynamoRunLedger } from '../../shared/state/dynamoRunLedger.ts';
import { DynamoTableLease } from '../../shared/state/dynamoTableLease.ts';
import { DynamoWatermarkStore } from '../../shared/state/dynamoWatermarkStore.ts';
import { sdkKmsApi } from './kmsApi.ts';

/** Environment variables the stack sets on every pipeline function. */
export const ENV = {
  stateTable: 'STATE_TABLE_NAME',
  stagingBucket: 'STAGING_BUCKET_NAME',
  tokenCacheKey: 'TOKEN_CACHE_KEY_ARN',
} as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set: the function was not deployed by the CloudSuite sync stack`);
  return value;
}

let deps: PipelineDeps | undefined;

export function awsPipelineDeps(): PipelineDeps {
  if (deps) return deps;
  const stateTableName = required(ENV.stateTable);
  const documents = createDynamoDocumentClient();
  const secrets = new SecretsManagerSecretSource({ client: createSecretsManagerClient() });
  const store = new S3BlobStore({ client: createS3Client(), bucket: required(ENV.stagingBucket) });
  // KMS is only needed where tokens are (Extract, Plan): built on first use.
  let tokenCache: DynamoTokenCache | undefined;
  const tokens = () =>
    (tokenCache ??= new DynamoTokenCache({
      documents,
      stateTableName,
      encryptor: new KmsEnvelopeEncryptor(sdkKmsApi(), required(ENV.tokenCacheKey)),
    }));
  let tenants: ReturnType<typeof tenantConnector> | undefined;
  const openWarehouse = warehouseOpener(secrets, (secret) => openWarehouseSession(secret, { log: logger }));
  deps = {
    ledger: new DynamoRunLedger({ documents, stateTableName }),
    watermarks: new DynamoWatermarkStore({ documents, stateTableName }),
    leases: new DynamoTableLease({ documents, stateTableName }),
    store,
    plans: new PlanStore(store),
    connectTenant: (secretName) => (tenants ??= tenantConnector(secrets, tokens(), logger)).connect(secretName),
    openWarehouse,
    loadTable,
    metrics: new PowertoolsPipelineMetrics(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE })),
    log: logger,
    now: Date.now,
  };
  return deps;
}
