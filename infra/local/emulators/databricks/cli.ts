// `cloudsuite-sync emulate databricks`: a local warehouse for manual runs, until Ctrl-C.
import { once } from 'node:events';
import { startWarehouseEmulator } from './emulator.ts';

export const DEFAULT_CLI_DB_FILE = '.cloudsuite-sync/databricks/warehouse.duckdb';

export async function runWarehouseEmulatorCli(options: { port?: number; dbFile?: string } = {}): Promise<void> {
  const dbFile = options.dbFile ?? DEFAULT_CLI_DB_FILE;
  const emulator = await startWarehouseEmulator({ port: options.port ?? 0, dbFile });
  process.stdout.write(
    [
      'Local Databricks SQL warehouse emulator (Thrift over plain HTTP, DuckDB inside)',
      `  host:  ${emulator.host}`,
      `  port:  ${emulator.port}`,
      `  path:  ${emulator.path}`,
      `  token: ${emulator.token}`,
      `  data:  ${dbFile}`,
      'Connect with PlainHttpDBSQLClient from infra/local/emulators/databricks (the stock client only speaks HTTPS).',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await emulator.close();
  process.stdout.write('Warehouse emulator stopped; data flushed.\n');
}
