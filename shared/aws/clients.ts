// Builds the AWS SDK v3 clients the product uses. Call these once at module scope (one client per warm
// Lambda, reused across invocations) and pass the clients to the adapters. An endpoint override points a
// client at a local emulator (dynalite, s3rver) for the local sync and the tests.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsClientOptions {
  /** Region; when absent the SDK resolves it (AWS_REGION in Lambda, or the profile's region). */
  region?: string;
  /** Endpoint override (local emulators). */
  endpoint?: string;
  /** Explicit credentials; when absent the SDK's default chain (the Lambda role) applies. */
  credentials?: StaticCredentials;
}

/** The services whose endpoint can be overridden, named as in AWS_ENDPOINT_URL_<SERVICE>. */
export type AwsService = 'S3' | 'DYNAMODB' | 'SECRETS_MANAGER';

/**
 * Credentials for the local emulators: dynalite accepts any, s3rver only its built-in key pair
 * (it does not check SigV4 signatures, only that the access key id exists).
 */
export const LOCAL_EMULATOR_CREDENTIALS: Readonly<StaticCredentials> = Object.freeze({
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
});

/** The region used against a loopback endpoint when none is configured (emulators ignore it). */
export const LOCAL_EMULATOR_REGION = 'us-east-1';

function isLoopbackEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Client options from the environment, using the SDK's own variable names: AWS_REGION (or
 * AWS_DEFAULT_REGION) and AWS_ENDPOINT_URL_<SERVICE> (or AWS_ENDPOINT_URL) for an endpoint override.
 */
export function awsClientOptionsFromEnv(service: AwsService, env: NodeJS.ProcessEnv = process.env): AwsClientOptions {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
  return { ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
}

/** Options every client shares; a loopback endpoint gets a region and emulator credentials by default. */
function baseConfig(options: AwsClientOptions) {
  const local = options.endpoint !== undefined && isLoopbackEndpoint(options.endpoint);
  const region = options.region ?? (local ? LOCAL_EMULATOR_REGION : undefined);
  const credentials = options.credentials ?? (local ? { ...LOCAL_EMULATOR_CREDENTIALS } : undefined);
  return {
    ...(region !== undefined ? { region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
  };
}

export function createS3Client(options: AwsClientOptions = awsClientOptionsFromEnv('S3')): S3Client {
  if (options.endpoint === undefined) return new S3Client(baseConfig(options));
  // s3rver (and other emulators) need path-style URLs, and mishandle the SDK's default flexible
  // checksums: streamed bodies would be stored with their aws-chunked framing. The staging layer
  // verifies sha256 from the manifest, so it does not depend on S3 checksums.
  return new S3Client({
    ...baseConfig(options),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoDocumentClient(
  options: AwsClientOptions = awsClientOptionsFromEnv('DYNAMODB'),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(baseConfig(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSecretsManagerClient(
  options: AwsClientOptions = awsClientOptionsFromEnv('SECRETS_MANAGER'),
): SecretsManagerClient {
  return new SecretsManagerClient(baseConfig(options));
}
