// Connects the official @databricks/sql client to a SQL warehouse with a PAT or OAuth M2M, with
// telemetry off (no feature-flag call on every connect) and exact numerics.
import { DBSQLClient, DBSQLLogger, LogLevel } from '@databricks/sql';
import type { WarehouseAuth } from '../secrets/warehouseSecret.ts';

export interface WarehouseTarget {
  /** Workspace host, optionally with :port, without scheme. */
  host: string;
  httpPath: string;
  auth: WarehouseAuth;
}

let quietLogger: DBSQLLogger | undefined;

/** A client whose own logging stays at errors (it would otherwise log to stdout). */
export function newDatabricksClient(): DBSQLClient {
  return new DBSQLClient({ logger: (quietLogger ??= new DBSQLLogger({ level: LogLevel.error })) });
}

function databricksConnectOptions(target: WarehouseTarget) {
  const [host, port] = target.host.split(':') as [string, string | undefined];
  const common = { host, ...(port ? { port: Number(port) } : {}), path: target.httpPath, telemetryEnabled: false, preserveBigNumericPrecision: true };
  return target.auth.kind === 'pat'
    ? { ...common, token: target.auth.token }
    : { ...common, authType: 'databricks-oauth' as const, oauthClientId: target.auth.clientId, oauthClientSecret: target.auth.clientSecret };
}

export async function connectDatabricks(target: WarehouseTarget, client: DBSQLClient = newDatabricksClient()): Promise<DBSQLClient> {
  await client.connect(databricksConnectOptions(target) as Parameters<DBSQLClient['connect']>[0]);
  return client;
}
