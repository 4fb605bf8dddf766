// Connects to tenants by secret: the .ionapi JSON comes from the secret source once per process, the token
// from the shared TokenCache (DynamoDB + KMS in AWS), so all Lambdas of a tenant share one token. Each call
// with options gets its own MI client over that token: its own share of the tenant's call budget (pacing)
// and timeout, so extractions running at once in one process (the local sync) do not share one pace.
import { connectCloudSuite, type CloudSuiteConnection } from '../cloudsuite/cloudSuiteConnection.ts';
import type { MiExecutor } from '../extract/miExecutor.ts';
import type { TokenCache } from '../ionapi/tokenCache.ts';
import { MiClient } from '../m3/miClient.ts';
import type { Log } from '../observability/logger.ts';
import type { SecretSource } from '../secrets/secretSource.ts';
import { readTenantSecret } from '../secrets/tenantSecret.ts';
import type { TenantCallOptions } from './pipelineDeps.ts';

export function tenantConnector(
  secrets: SecretSource,
  cache: TokenCache,
  log: Log,
): { connect(secretName: string, options?: TenantCallOptions): Promise<MiExecutor> } {
  const open = new Map<string, Promise<CloudSuiteConnection>>();
  return {
    connect(secretName: string, options?: TenantCallOptions) {
      let connection = open.get(secretName);
      if (!connection) {
        connection = readTenantSecret(secrets, secretName).then((config) => connectCloudSuite(config, { cache, log }));
        // A failed read (missing secret, bad JSON) is not remembered: the next call tries again.
        connection.catch(() => open.delete(secretName));
        open.set(secretName, connection);
      }
      return connection.then((c) =>
        options && (options.maxRequestsPerSecond || options.attemptTimeoutMs)
          ? new MiClient({ apiBaseUrl: c.config.apiBaseUrl, tokens: c.tokens, log, ...options })
          : c.mi,
      );
    },
  };
}
