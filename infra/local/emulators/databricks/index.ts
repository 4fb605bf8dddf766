// Public API of the local Databricks SQL warehouse emulator: the real Thrift protocol over HTTP, executed on
// DuckDB. Start it, connect the real @databricks/sql client to it, inject faults, and assert on what ran.
import type { DBSQLClient } from '@databricks/sql';
import { connectToEmulator as connectClient, type ConnectionOptions } from './client.ts';
import type { WarehouseEmulator } from './emulator.ts';

export {
  startWarehouseEmulator,
  DEFAULT_HTTP_PATH,
  DEFAULT_MAX_STATEMENT_BYTES,
  DEFAULT_TOKEN,
  type WarehouseEmulator,
  type WarehouseEmulatorOptions,
} from './emulator.ts';
export { runWarehouseEmulatorCli } from './cli.ts';
export { PlainHttpDBSQLClient, emulatorConnectOptions, type ConnectionOptions } from './client.ts';
export { WarehouseError } from './errors.ts';
export { s3ObjectStorage, type ObjectStorage, type StorageAccess } from './copyInto.ts';
export { PUBLIC_WAREHOUSE_LATENCY, modeledMs, type LatencyModel } from './latencyModel.ts';
export type { WarehouseSettings } from './warehouse.ts';
export type { WarehouseFault } from './faults.ts';
export type { StatementLogEntry } from './statementLog.ts';

/** A connected real DBSQLClient (telemetry off, exact numerics), and the options it was connected with. */
export function connectToEmulator(
  emulator: Pick<WarehouseEmulator, 'host' | 'port' | 'path' | 'token'>,
  options: { token?: string } & Partial<ConnectionOptions> = {},
): Promise<{ client: DBSQLClient; connectOptions: ConnectionOptions }> {
  return connectClient(emulator, options);
}
