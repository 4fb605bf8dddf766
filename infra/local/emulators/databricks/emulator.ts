// Starts the emulator: DuckDB warehouse, Thrift handler and HTTP endpoint, wired together.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FaultRegistry, type WarehouseFault } from './faults.ts';
import { resultToObjects } from './results.ts';
import { startHttpServer } from './server.ts';
import type { StatementLogEntry } from './statementLog.ts';
import { ThriftHandler } from './thriftHandler.ts';
import { Warehouse, defaultWarehouseSettings, type WarehouseSettings } from './warehouse.ts';
import type { StorageAccess } from './copyInto.ts';
import { PUBLIC_WAREHOUSE_LATENCY, type LatencyModel } from './latencyModel.ts';

export interface WarehouseEmulatorOptions {
  /** Default 0 (a free port); the emulator listens on 127.0.0.1 only. */
  port?: number;
  /** The warehouse file (catalog registry); each catalog is `<dir>/<base>.<catalog>.duckdb` beside it. Default ':memory:'. */
  dbFile?: string;
  /** The bearer token every request must carry. Default 'dapi-local-emulator'. */
  token?: string;
  /** Default '/sql/1.0/warehouses/emulator'. */
  httpPath?: string;
  /** Statement text plus parameter values, in UTF-8 bytes. Default 1 MiB; larger statements fail (ERROR_STATE). */
  maxStatementBytes?: number;
  /** For this long after start, ExecuteStatement answers HTTP 503 like a cold warehouse. Default 0. */
  startingPhaseMs?: number;
  /** What COPY INTO may read: an object store (e.g. `s3ObjectStorage(client)` over s3rver) and the external locations over it. */
  storage?: StorageAccess;
  /** false: the principal lacks CREATE SCHEMA (even CREATE SCHEMA IF NOT EXISTS of an existing schema fails). Default true. */
  createSchemaPrivilege?: boolean;
  /** Model a real warehouse's latency: 'public-warehouse' (the defaults, logged only) or a model of your own. Default off. */
  latency?: 'public-warehouse' | LatencyModel;
}

export interface WarehouseEmulator {
  /** '127.0.0.1': pass as `host` together with `port` (the driver appends the port itself). */
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly token: string;
  /** Every statement that reached execution, in completion order. */
  readonly statements: StatementLogEntry[];
  /** Knobs that may change while it runs (privileges, storage). */
  readonly settings: WarehouseSettings;
  injectFault(fault: WarehouseFault): void;
  clearFaults(): void;
  /** Runs one Databricks statement directly (translated like any other) and returns exact, readable rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Stops serving, closes sessions, checkpoints and detaches every catalog so the files are complete. */
  close(): Promise<void>;
}

export const DEFAULT_TOKEN = 'dapi-local-emulator';
export const DEFAULT_HTTP_PATH = '/sql/1.0/warehouses/emulator';
export const DEFAULT_MAX_STATEMENT_BYTES = 1_048_576;
const HOST = '127.0.0.1';

export async function startWarehouseEmulator(options: WarehouseEmulatorOptions = {}): Promise<WarehouseEmulator> {
  const dbFile = options.dbFile ?? ':memory:';
  if (dbFile !== ':memory:') await mkdir(path.dirname(path.resolve(dbFile)), { recursive: true });
  const token = options.token ?? DEFAULT_TOKEN;
  const httpPath = options.httpPath ?? DEFAULT_HTTP_PATH;
  const settings = defaultWarehouseSettings();
  if (options.storage) settings.storage = options.storage;
  if (options.createSchemaPrivilege === false) settings.privileges.createSchema = false;
  const warehouse = await Warehouse.open(dbFile, settings);
  const faults = new FaultRegistry();
  const statements: StatementLogEntry[] = [];
  const handler = new ThriftHandler({
    warehouse,
    faults,
    log: statements,
    maxStatementBytes: options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES,
    ...(options.latency ? { latency: options.latency === 'public-warehouse' ? { ...PUBLIC_WAREHOUSE_LATENCY, mode: 'record' as const } : options.latency } : {}),
  });
  let server;
  try {
    server = await startHttpServer({
      host: HOST,
      port: options.port ?? 0,
      path: httpPath,
      token,
      startingPhaseMs: options.startingPhaseMs ?? 0,
      handler,
      faults,
    });
  } catch (error) {
    await warehouse.close();
    throw error;
  }
  const running = server;
  let closing: Promise<void> | undefined;

  return {
    host: HOST,
    port: running.port,
    path: httpPath,
    token,
    statements,
    settings,
    injectFault: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    query: async (sql) => resultToObjects(await warehouse.query(sql)),
    close: () => {
      closing ??= (async () => {
        await running.close();
        await handler.closeAll();
        await warehouse.close();
      })();
      return closing;
    },
  };
}
