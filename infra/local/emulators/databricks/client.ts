// A real @databricks/sql client pointed at the emulator. The driver always speaks HTTPS; the emulator serves
// plain HTTP on loopback, so this client swaps in the driver's own exported HttpConnection with https: false.
// Everything above the socket (Thrift, retries, result decoding) is the unmodified driver.
import { DBSQLClient, DBSQLLogger, LogLevel, connections } from '@databricks/sql';
import type { ConnectionOptions } from '@databricks/sql/dist/contracts/IDBSQLClient.js';
type IConnectionOptions = ConstructorParameters<typeof connections.HttpConnection>[0];

export type { ConnectionOptions };

interface DriverInternals {
  getConnectionOptions(options: ConnectionOptions): IConnectionOptions;
  createConnectionProvider(options: ConnectionOptions): unknown;
}

// One quiet logger for all emulator clients (each DBSQLLogger installs its own winston exception handler).
let quietLogger: DBSQLLogger | undefined;

/** DBSQLClient that connects over plain HTTP (for the local emulator only). Logs errors only by default. */
export class PlainHttpDBSQLClient extends DBSQLClient {
  constructor(options: ConstructorParameters<typeof DBSQLClient>[0] = {}) {
    super({ ...options, logger: options?.logger ?? (quietLogger ??= new DBSQLLogger({ level: LogLevel.error })) });
    // createConnectionProvider is private in the driver's typings, so it is replaced on the instance.
    const internals = this as unknown as DriverInternals;
    internals.createConnectionProvider = (connectOptions) =>
      new connections.HttpConnection({ ...internals.getConnectionOptions(connectOptions), https: false }, this as never);
  }
}

export interface EmulatorAddress {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly token: string;
}

/**
 * The connect options for the emulator, as the product would pass them for a real warehouse: telemetry off
 * and exact numerics (DECIMAL as string, BIGINT as bigint).
 */
export function emulatorConnectOptions(address: EmulatorAddress, overrides: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    host: address.host,
    port: address.port,
    path: address.path,
    token: address.token,
    telemetryEnabled: false,
    preserveBigNumericPrecision: true,
    ...overrides,
  } as ConnectionOptions;
}

/** A connected real DBSQLClient for the emulator, and the options it was connected with. */
export async function connectToEmulator(
  address: EmulatorAddress,
  options: { token?: string } & Partial<ConnectionOptions> = {},
): Promise<{ client: DBSQLClient; connectOptions: ConnectionOptions }> {
  const connectOptions = emulatorConnectOptions(address, options);
  const client = new PlainHttpDBSQLClient();
  await client.connect(connectOptions);
  return { client, connectOptions };
}
