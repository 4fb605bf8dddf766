// Builds MI clients per tenant secret, once per process: the .ionapi JSON comes from the secret source, the
// token from the shared TokenCache (DynamoDB + KMS in AWS), so all Lambdas of a tenant share one token.
import { connectCloudSuite, type CloudSuiteConnection } from '../cloudsuite/cloudSuiteConnection.ts';
import type { MiExecutor } from '../extract/miExecutor.ts';
import type { TokenCache } from '../ionapi/tokenCache.ts';
import type { Log } from '../observability/logger.ts';
import type { SecretSource } from '../secrets/secretSource.ts';
import { readTenantSecret } from '../secrets/tenantSecret.ts';

export function tenantConnector(secrets: SecretSource, cache: TokenCache, log: Log): { connect(secretName: string): Promise<MiExecutor> } {
  const open = new Map<string, Promise<CloudSuiteConnection>>();
  return {
    connect(secretName: string) {
      let connection = open.get(secretName);
      if (!connection) {
        connection = readTenantSecret(secrets, secretName).then((config) => connectCloudSuite(config, { cache, log }));
        // A failed read (missing secret, bad JSON) is not remembered: the next call tries again.
        connection.catch(() => open.delete(secretName));
        open.set(secretName, connection);
      }
      return connection.then((c) => c.mi);
    },
  };
}
