// The state and staging ports in Lambda, built once per warm container from the environment the stack sets:
// the DynamoDB state table (run ledger, watermarks, table leases) and the S3 staging bucket. Every function
// uses them; what else a function needs comes from its own factory (awsTenants.ts, awsWarehouse.ts,
// awsMetrics.ts), so each bundle holds only what its function uses.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDocumentClient, createS3Client } from '../../shared/aws/clients.ts';
import { S3BlobStore } from '../../shared/aws/s3BlobStore.ts';
import { ConfigError } from '../../shared/config/configError.ts';
import { pipelineState, type PipelineState } from '../../shared/pipeline/pipelineState.ts';
import { dynamoSyncState } from '../../shared/state/dynamoSyncState.ts';
import { ENV } from './environment.ts';

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set: the function was not deployed by the CloudSuite sync stack`);
  return value;
}

let table: { documents: DynamoDBDocumentClient; stateTableName: string } | undefined;

/** The state table and its client (the token cache keeps its items there too). */
export function awsStateTable(): { documents: DynamoDBDocumentClient; stateTableName: string } {
  return (table ??= { documents: createDynamoDocumentClient(), stateTableName: requiredEnv(ENV.stateTable) });
}

let state: PipelineState | undefined;

export function awsState(): PipelineState {
  return (state ??= pipelineState(
    dynamoSyncState(awsStateTable()),
    new S3BlobStore({ client: createS3Client(), bucket: requiredEnv(ENV.stagingBucket) }),
  ));
}
