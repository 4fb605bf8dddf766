// Resolves the CLI's warehouse options: the bundled warehouse emulator persisted to a DuckDB file
// (`--warehouse local[:FILE]`) or a real Databricks SQL warehouse (credentials from the environment).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DBSQLClient } from '@databricks/sql';
import { DatabricksSession } from '../../shared/load/databricksSession.ts';
import { connectDatabricks } from '../../shared/load/warehouseConnection.ts';
import { OAuthM2mAuth, PatAuth } from '../../shared/secrets/warehouseSecret.ts';
import { ensureStateFolder } from '../local/stateFolder.ts';
import { UsageError } from './output.ts';

export interface WarehouseOptions {
  warehouse?: string;
  /** The local warehouse only: an external location COPY INTO may read (copy-mode round trips). */
  storage?: import('../local/emulators/databricks/index.ts').StorageAccess;
  databricksHost?: string;
  databricksPath?: string;
  stateDir?: string;
}

export interface OpenWarehouse {
  session: DatabricksSession;
  /** Where the data lands, for the summary. */
  where: string;
  /** How to look at a table, for the summary. */
  howToQuery: (table: string) => string;
  close(): Promise<void>;
}

function authFromEnvironment() {
  const { DATABRICKS_TOKEN: token, DATABRICKS_CLIENT_ID: clientId, DATABRICKS_CLIENT_SECRET: clientSecret } = process.env;
  if (token) return new PatAuth(token);
  if (clientId && clientSecret) return new OAuthM2mAuth(clientId, clientSecret);
  throw new UsageError('set DATABRICKS_TOKEN (a personal access token) or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal)');
}

export async function openWarehouse(options: WarehouseOptions): Promise<OpenWarehouse> {
  if (options.databricksHost || options.databricksPath) {
    if (!options.databricksHost || !options.databricksPath) throw new UsageError('give both --databricks-host and --databricks-path');
    if (options.warehouse) throw new UsageError('give either --warehouse local or --databricks-host/--databricks-path, not both');
    const host = options.databricksHost.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (!options.databricksPath.startsWith('/sql/')) throw new UsageError('--databricks-path is the warehouse HTTP path, e.g. /sql/1.0/warehouses/abc123');
    const client: DBSQLClient = await connectDatabricks({ host, httpPath: options.databricksPath, auth: authFromEnvironment() });
    const session = new DatabricksSession({ client, workspace: host });
    return {
      session, where: `Databricks ${host}${options.databricksPath}`, howToQuery: (table: string) => `SELECT * FROM ${table} LIMIT 10 in the Databricks SQL editor`,
      close: async () => {
        await session.close();
        await client.close();
      },
    };
  }
  const spec = options.warehouse ?? 'local';
  if (!/^local(:.+)?$/.test(spec)) throw new UsageError(`--warehouse must be local or local:FILE, got "${spec}"`);
  const stateDir = path.resolve(options.stateDir ?? '.cloudsuite-sync');
  const file = path.resolve(spec.startsWith('local:') ? spec.slice('local:'.length) : path.join(stateDir, 'databricks', 'warehouse.duckdb'));
  // The default file lives in the state folder: created here, it is the tool's (sync --reset may delete it).
  if (!spec.startsWith('local:')) await ensureStateFolder(stateDir);
  await mkdir(path.dirname(file), { recursive: true });
  const { startWarehouseEmulator, connectToEmulator } = await import('../local/emulators/databricks/index.ts');
  let warehouse;
  try {
    warehouse = await startWarehouseEmulator({ dbFile: file, ...(options.storage ? { storage: options.storage } : {}) });
  } catch (error) {
    const message = (error as Error).message;
    if (/lock/i.test(message)) {
      throw new UsageError(`${file} is in use by another process (a running sync, emulator or DuckDB shell): close it or use --warehouse local:OTHER_FILE`, {
        cause: error,
      });
    }
    throw error;
  }
  const { client } = await connectToEmulator(warehouse);
  const session = new DatabricksSession({ client });
  return {
    session,
    where: `local warehouse emulator, DuckDB file ${file}`,
    howToQuery: (table: string) => {
      const relative = path.relative(process.cwd(), file);
      return `npx cloudsuite-sync query --warehouse local:${relative.startsWith('..') ? file : relative} "SELECT * FROM ${table} LIMIT 10"`;
    },
    close: async () => {
      await session.close();
      await client.close();
      await warehouse.close();
    },
  };
}
