// `check`: "ping your real systems" before deploying: a token, then one cheap MI call.
import { connectCloudSuite } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { loadIonApiFile } from '../../../shared/ionapi/ionApiFile.ts';
import { assertIdentifier, quote } from '../../../shared/load/identifiers.ts';
import { result, UsageError } from '../output.ts';
import { openWarehouse, type WarehouseOptions } from '../warehouseTarget.ts';

export interface CheckOptions extends WarehouseOptions {
  ionapi?: string;
  company?: string;
  catalog: string;
  schema: string;
  /** Also prove a load end to end (see warehouseRoundTrip.ts). */
  roundTrip?: boolean;
}

export async function checkCommand(options: CheckOptions): Promise<number> {
  const lines: string[] = [];
  let ok = true;
  const step = async (label: string, fn: () => Promise<string>) => {
    try {
      lines.push(`ok    ${label}: ${await fn()}`);
      return true;
    } catch (error) {
      ok = false;
      lines.push(`FAIL  ${label}: ${(error as Error).message}`);
      return false;
    }
  };
  const warehouseWanted = Boolean(options.databricksHost || options.databricksPath || options.warehouse);
  if (!options.ionapi && !warehouseWanted) throw new UsageError('give --ionapi FILE, --databricks-host/--databricks-path, or both');
  if (options.roundTrip && !warehouseWanted) throw new UsageError('--round-trip loads into a warehouse: give --databricks-host/--databricks-path or --warehouse local');
  let connection: ReturnType<typeof connectCloudSuite> | undefined;
  if (options.ionapi) await step('.ionapi file', async () => {
    const config = await loadIonApiFile(options.ionapi!);
    connection = connectCloudSuite(config);
    const unknown = config.unknownKeys.length ? ` (ignored unknown keys: ${config.unknownKeys.join(', ')})` : '';
    return `tenant ${config.tenant}, API ${config.apiBaseUrl}${unknown}`;
  });
  if (connection) {
    const { tokens, mi } = connection;
    const gotToken = await step('token', async () => {
      await tokens.getAccessToken();
      return `issued by ${connection!.config.tokenUrl}`;
    });
    if (gotToken) {
      await step('MI call MNS150MI/GetUserData', async () => {
        const { records } = await mi.execute({ program: 'MNS150MI', transaction: 'GetUserData' });
        const user = records[0] ?? {};
        return `user ${user.USID ?? '?'}, default company ${user.CONO ?? '?'} division ${user.DIVI || '(blank)'}`;
      });
      if (options.company) {
        await step(`company ${options.company}`, async () => {
          const { records } = await mi.execute({
            program: 'MNS100MI', transaction: 'LstDivisions', inputs: { CONO: options.company! }, company: options.company, maxRecords: 0,
          });
          return `${records.length} division(s): ${records.map((r) => r.DIVI).join(', ')}`;
        });
      }
      await tokens.revoke().catch(() => undefined);
    }
  }
  if (warehouseWanted) await checkWarehouse(options, step);
  for (const line of lines) result(line);
  result(ok ? 'all checks passed' : 'some checks failed');
  return ok ? 0 : 1;
}

/**
 * Connectivity and the privileges a load needs, proved by doing: USE CATALOG, CREATE SCHEMA (or its
 * existence), CREATE TABLE, MODIFY and SELECT on a probe table that is dropped again.
 */
async function checkWarehouse(options: CheckOptions, step: (label: string, fn: () => Promise<string>) => Promise<boolean>): Promise<void> {
  const catalog = assertIdentifier(options.catalog, 'catalog');
  const schema = assertIdentifier(options.schema, 'schema');
  let warehouse: Awaited<ReturnType<typeof openWarehouse>> | undefined;
  const connected = await step('warehouse connection', async () => {
    warehouse = await openWarehouse(options);
    await warehouse.session.execute('SELECT 1 AS ok');
    return warehouse.where;
  });
  if (!connected || !warehouse) return;
  const wh = warehouse.session;
  const probe = `${quote(catalog)}.${quote(schema)}.\`_cloudsuite_sync_probe\``;
  try {
    (await step(`USE CATALOG ${catalog}`, async () => (await wh.execute(`USE CATALOG ${quote(catalog)}`), 'granted'))) &&
      (await step(`schema ${catalog}.${schema}`, async () => (await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${quote(catalog)}.${quote(schema)}`), 'exists or created'))) &&
      (await step('CREATE TABLE, MODIFY, SELECT', async () => {
        await wh.execute(`CREATE TABLE IF NOT EXISTS ${probe} (probe INT) USING DELTA`);
        await wh.execute(`INSERT INTO ${probe} VALUES (1)`);
        await wh.execute(`SELECT count(*) AS n FROM ${probe}`);
        await wh.execute(`DROP TABLE IF EXISTS ${probe}`);
        return 'granted (probe table created, written, read and dropped)';
      })) &&
      options.roundTrip &&
      (await step('load round trip', async () => (await import('../warehouseRoundTrip.ts')).warehouseRoundTrip(wh, catalog, schema)));
  } finally {
    await warehouse.close();
  }
}
