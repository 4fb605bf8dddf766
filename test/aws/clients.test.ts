import { afterEach, describe, expect, it } from 'vitest';
import { awsClientOptionsFromEnv, createDynamoDocumentClient, createS3Client, LOCAL_EMULATOR_CREDENTIALS } from '#shared/aws/clients.ts';

const clients: { destroy(): void }[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

describe('AWS client factories', () => {
  it('reads the region and the per-service endpoint override from the SDK environment variables', () => {
    const env = { AWS_REGION: 'eu-north-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2' };
    expect(awsClientOptionsFromEnv('S3', env)).toEqual({ region: 'eu-north-1', endpoint: 'http://127.0.0.1:2' });
    expect(awsClientOptionsFromEnv('DYNAMODB', env)).toEqual({ region: 'eu-north-1', endpoint: 'http://127.0.0.1:1' });
    expect(awsClientOptionsFromEnv('SECRETS_MANAGER', { AWS_DEFAULT_REGION: 'us-west-2' })).toEqual({ region: 'us-west-2' });
  });

  it('points S3 at a local emulator with path-style URLs, checksums only when required and emulator credentials', async () => {
    const local = createS3Client({ endpoint: 'http://127.0.0.1:4568' });
    clients.push(local);
    expect(local.config.forcePathStyle).toBe(true);
    expect(await local.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await local.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await local.config.region()).toBe('us-east-1');
    expect(await local.config.credentials()).toMatchObject(LOCAL_EMULATOR_CREDENTIALS);

    const aws = createS3Client({ region: 'eu-west-1' });
    clients.push(aws);
    expect(aws.config.forcePathStyle).toBe(false);
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
  });

  it('never substitutes emulator credentials for a remote endpoint', async () => {
    const documents = createDynamoDocumentClient({ region: 'eu-west-1', endpoint: 'https://dynamodb.eu-west-1.amazonaws.com' });
    clients.push(documents);
    const previous = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMENVIRONMENT';
    process.env.AWS_SECRET_ACCESS_KEY = 'from-environment';
    try {
      expect((await documents.config.credentials()).accessKeyId).toBe('AKIAFROMENVIRONMENT');
    } finally {
      if (previous.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = previous.id;
      if (previous.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = previous.secret;
    }
  });
});
