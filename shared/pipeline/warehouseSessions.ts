// Opens a warehouse session from the Databricks connection secret: the official driver connected by
// shared/load/warehouseConnection.ts (PAT or OAuth M2M) behind the WarehouseSession port
// (shared/load/databricksSession.ts); closing the session closes its client. The local sync passes a
// client for the plain-HTTP warehouse emulator.
import type { DBSQLClient } from '@databricks/sql';
import { DatabricksSession } from '../load/databricksSession.ts';
import type { WarehouseSession } from '../load/loadTypes.ts';
import { connectDatabricks, newDatabricksClient } from '../load/warehouseConnection.ts';
import type { Log } from '../observability/logger.ts';
import type { SecretSource } from '../secrets/secretSource.ts';
import { readWarehouseSecret, type WarehouseSecret } from '../secrets/warehouseSecret.ts';

export type WarehouseConnector = (secret: WarehouseSecret) => Promise<WarehouseSession>;

export interface OpenWarehouseSessionOptions {
  /** Default: the stock driver (HTTPS), logging errors only. */
  clientFactory?: () => DBSQLClient;
  log?: Log;
}

export async function openWarehouseSession(secret: WarehouseSecret, options: OpenWarehouseSessionOptions = {}): Promise<WarehouseSession> {
  const client = await connectDatabricks(secret, options.clientFactory?.() ?? newDatabricksClient());
  const session = new DatabricksSession({ client, workspace: secret.host, ...(options.log ? { log: options.log } : {}) });
  return {
    workspace: secret.host,
    execute: (sql, params, callOptions) => session.execute(sql, params, callOptions),
    get stats() {
      return session.stats;
    },
    async close() {
      await session.close();
      await client.close().catch(() => undefined);
    },
  };
}

/** Opens sessions from the connection secret (read on every open, so a rotated secret is picked up). */
export function warehouseOpener(secrets: SecretSource, connect: WarehouseConnector): (secretName: string) => Promise<WarehouseSession> {
  return async (secretName) => connect(await readWarehouseSecret(secrets, secretName));
}
