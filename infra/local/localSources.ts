// Where a local sync reads from and writes to: the bundled CloudSuite emulator (its calendar kept in the
// state folder, so a later run with --advance-days sees new changes) or a real tenant's .ionapi file; and
// the bundled Databricks warehouse emulator (a DuckDB file in the state folder) or a real SQL warehouse.
// Credentials stay in memory: they reach the pipeline through the same SecretSource port as in AWS.
// Emulator code is imported only when an emulator starts: a run against real systems never loads DuckDB.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../shared/config/configError.ts';
import { parseIonApiFile } from '../../shared/ionapi/ionApiFile.ts';
import { SecretNotFoundError, type SecretSource } from '../../shared/secrets/secretSource.ts';
import { parseWarehouseSecret } from '../../shared/secrets/warehouseSecret.ts';
import { openWarehouseSession, type WarehouseConnector } from '../../shared/pipeline/warehouseSessions.ts';
import type { Log } from '../../shared/observability/logger.ts';
import type { CloudSuiteEmulator, Knobs, Volume } from './emulators/cloudsuite/index.ts';
import type { StorageAccess, WarehouseEmulator } from './emulators/databricks/index.ts';

/** Secrets held in memory under their configured names (never written to the state folder). */
export class InMemorySecretSource implements SecretSource {
  private readonly values = new Map<string, string>();

  set(name: string, value: string): void {
    this.values.set(name, value);
  }

  async getSecretString(name: string): Promise<string> {
    const value = this.values.get(name);
    if (value === undefined) throw new SecretNotFoundError(name, 'the local sync (only the selected tenant and warehouse are available)');
    return value;
  }
}

export interface EmulatorState {
  seed: number;
  volume?: Partial<Volume>;
  /** Days the emulator's calendar has moved since the first run: replayed on every start. */
  daysAdvanced: number;
}

export interface LocalCloudSuite {
  /** The .ionapi JSON. */
  ionapi: string;
  tenant: string;
  description: string;
  emulator?: CloudSuiteEmulator;
  today?: string;
  close(): Promise<void>;
}

/**
 * The bundled emulator, restored from the state folder: same seed and volume, and the calendar moved
 * forward by every day advanced so far plus `advanceDays`.
 */
export async function startLocalCloudSuite(options: {
  stateDir: string;
  advanceDays?: number;
  seed?: number;
  volume?: Partial<Volume>;
  knobs?: Partial<Knobs>;
}): Promise<LocalCloudSuite> {
  const file = path.join(options.stateDir, 'cloudsuite-emulator.json');
  let state: EmulatorState;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as EmulatorState;
  } catch {
    state = { seed: options.seed ?? 1, ...(options.volume ? { volume: options.volume } : {}), daysAdvanced: 0 };
  }
  const { DEFAULT_KNOBS, startCloudSuiteEmulator } = await import('./emulators/cloudsuite/index.ts');
  const unknown = Object.keys(options.knobs ?? {}).filter((k) => !(k in DEFAULT_KNOBS));
  if (unknown.length > 0) {
    throw new ConfigError(`emulator knobs: unknown ${unknown.map((k) => `"${k}"`).join(', ')}; knobs are ${Object.keys(DEFAULT_KNOBS).join(', ')}`);
  }
  const emulator = await startCloudSuiteEmulator({
    seed: state.seed,
    ...(state.volume ? { volume: state.volume } : {}),
    ...(options.knobs ? { knobs: options.knobs } : {}),
  });
  if (state.daysAdvanced > 0) emulator.clock.advanceDays(state.daysAdvanced);
  if (options.advanceDays) {
    emulator.clock.advanceDays(options.advanceDays);
    state.daysAdvanced += options.advanceDays;
  }
  await writeFile(file, `${JSON.stringify(state, null, 2)}\n`);
  return {
    ionapi: JSON.stringify(emulator.ionapi),
    tenant: emulator.tenant,
    description: `bundled CloudSuite emulator (tenant ${emulator.tenant}, seed ${state.seed}, today ${emulator.clock.today()})`,
    emulator,
    today: emulator.clock.today(),
    close: () => emulator.close(),
  };
}

/** A real tenant: its .ionapi file, validated before anything runs. */
export async function realCloudSuite(ionapiFile: string): Promise<LocalCloudSuite> {
  const text = await readFile(ionapiFile, 'utf8').catch(() => {
    throw new ConfigError(`--ionapi ${ionapiFile}: the file cannot be read`);
  });
  const config = parseIonApiFile(text, ionapiFile);
  return { ionapi: text, tenant: config.tenant, description: `tenant ${config.tenant} (${ionapiFile})`, close: async () => undefined };
}

export interface DatabricksTarget {
  host: string;
  httpPath: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface LocalWarehouse {
  /** The connection secret's JSON (kept in memory). */
  secret: string;
  connect: WarehouseConnector;
  description: string;
  /** How to look at a loaded table (catalog.schema.table). */
  howToQuery(table: string): string;
  /** How to run one statement against it. */
  howToRun(sql: string): string;
  emulator?: WarehouseEmulator;
  close(): Promise<void>;
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || relative === '' ? file : relative;
}

/**
 * The bundled warehouse; with `storage`, an external location over the local staging bucket, so copy-mode loads
 * read the staged files themselves (COPY INTO), as a real warehouse reads S3.
 */
export async function startLocalWarehouse(stateDir: string, log?: Log, storage?: StorageAccess): Promise<LocalWarehouse> {
  // The same file `npx cloudsuite-sync query --warehouse local` opens.
  const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
  const { PlainHttpDBSQLClient, startWarehouseEmulator } = await import('./emulators/databricks/index.ts');
  let emulator: WarehouseEmulator;
  try {
    emulator = await startWarehouseEmulator({ dbFile, ...(storage ? { storage } : {}) });
  } catch (error) {
    if (/lock/i.test((error as Error).message)) {
      throw new ConfigError(`${dbFile} is in use by another process (a running sync, emulator or query): close it first`);
    }
    throw error;
  }
  const secret = JSON.stringify({ host: `${emulator.host}:${emulator.port}`, httpPath: emulator.path, token: emulator.token });
  return {
    secret,
    connect: (parsed) => openWarehouseSession(parsed, { clientFactory: () => new PlainHttpDBSQLClient(), ...(log ? { log } : {}) }),
    description: `bundled Databricks warehouse emulator (${dbFile})`,
    howToQuery: (table) => `npx cloudsuite-sync query --warehouse local:${displayPath(dbFile)} "SELECT * FROM ${table} LIMIT 10"`,
    howToRun: (sql) => `npx cloudsuite-sync query --warehouse local:${displayPath(dbFile)} "${sql}"`,
    emulator,
    close: () => emulator.close(),
  };
}

export function realWarehouse(target: DatabricksTarget, log?: Log): LocalWarehouse {
  const secret = JSON.stringify({
    host: target.host.replace(/^https?:\/\//, '').replace(/\/+$/, ''),
    httpPath: target.httpPath,
    ...(target.token ? { token: target.token } : { clientId: target.clientId, clientSecret: target.clientSecret }),
  });
  const parsed = parseWarehouseSecret(secret, '--databricks-host/--databricks-path with DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/SECRET');
  return {
    secret,
    connect: (s) => openWarehouseSession(s, log ? { log } : {}),
    description: `Databricks SQL warehouse ${parsed.host}${parsed.httpPath}`,
    howToQuery: (table) => `SELECT * FROM ${table} LIMIT 10 in the SQL editor of ${parsed.host}`,
    howToRun: (sql) => `${sql} in the SQL editor of ${parsed.host}`,
    close: async () => undefined,
  };
}
