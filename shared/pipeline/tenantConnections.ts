// Connects to tenants by secret: the .ionapi JSON comes from the secret source once per process, the token
// from the shared TokenCache (DynamoDB + KMS in AWS), so all Lambdas of a tenant share one token. Each call
// with options gets its own MI client over that token: its own share of the tenant's call budget (pacing)
// and timeout, so extractions running at once in one process (the local sync) do not share one pace.
// A secret must hold the file of the tenant it is configured for: its "ti" is checked before anything is
// called, so a TST file pasted into the PRD secret cannot stage TST data as PRD rows, merge them over PRD's
// and move PRD's watermarks.
import { connectCloudSuite, type CloudSuiteConnection } from '../cloudsuite/cloudSuiteConnection.ts';
import { ConfigError } from '../config/configError.ts';
import type { MiExecutor } from '../extract/miExecutor.ts';
import type { TokenCache } from '../ionapi/tokenCache.ts';
import { MiClient } from '../m3/miClient.ts';
import type { Log } from '../observability/logger.ts';
import type { SecretSource } from '../secrets/secretSource.ts';
import { readTenantSecret } from '../secrets/tenantSecret.ts';
import type { TenantCallOptions } from './pipelineDeps.ts';

/** The secret configured for a tenant holds another tenant's .ionapi file. */
export class TenantSecretMismatchError extends ConfigError {
  override name = 'TenantSecretMismatchError';
}

export function tenantConnector(
  secrets: SecretSource,
  cache: TokenCache,
  log: Log,
): { connect(secretName: string, tenant: string, options?: TenantCallOptions): Promise<MiExecutor> } {
  const open = new Map<string, Promise<CloudSuiteConnection>>();
  return {
    connect(secretName: string, tenant: string, options?: TenantCallOptions) {
      const key = JSON.stringify([secretName, tenant]);
      let connection = open.get(key);
      if (!connection) {
        connection = readTenantSecret(secrets, secretName).then((config) => {
          if (config.tenant !== tenant) {
            throw new TenantSecretMismatchError(
              `secret "${secretName}" holds the .ionapi file of tenant "${config.tenant}" (its "ti"), but the flows configuration ` +
                `reads tenant "${tenant}" with it; nothing was called. Paste the .ionapi file of tenant ${tenant} into the secret, ` +
                `or correct tenants.${tenant}.secretName`,
            );
          }
          return connectCloudSuite(config, { cache, log });
        });
        // A failed read (missing secret, bad JSON, another tenant's file) is not remembered: the next call tries again.
        connection.catch(() => open.delete(key));
        open.set(key, connection);
      }
      return connection.then((c) =>
        options && (options.maxRequestsPerSecond || options.attemptTimeoutMs)
          ? new MiClient({ apiBaseUrl: c.config.apiBaseUrl, tokens: c.tokens, log, ...options })
          : c.mi,
      );
    },
  };
}
