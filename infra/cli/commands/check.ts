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
  /** The load mode the round trip proves (default merge). */
  loadMode?: string;
  /** Copy mode with a real warehouse: where to stage the probe files (s3://bucket/prefix under the external location). */
  stagingUrl?: string;
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
  const loadMode = options.loadMode ?? 'merge';
  if (loadMode !== 'merge' && loadMode !== 'copy') throw new UsageError(`--load-mode is merge or copy, not "${loadMode}"`);
  if (loadMode === 'copy' && options.databricksHost && !options.stagingUrl) {
    throw new UsageError('--load-mode copy with a real warehouse needs --staging-url s3://<bucket>/runs/… (under the external location; the stack outputs it as DatabricksStagingUrl)');
  }
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
  const timings: string[] = [];
  if (warehouseWanted) await checkWarehouse(options, step, timings);
  for (const line of lines) result(line);
  if (timings.length) {
    result('statements of the round trip (time, bound parameters, statement):');
    for (const line of timings) result(`      ${line}`);
  }
  result(ok ? 'all checks passed' : 'some checks failed');
  return ok ? 0 : 1;
}

/**
 * Connectivity and the privileges a load needs, proved by doing: USE CATALOG, CREATE SCHEMA (or its
 * existence), CREATE TABLE, MODIFY and SELECT on a probe table that is dropped again.
 */
async function checkWarehouse(options: CheckOptions, step: (label: string, fn: () => Promise<string>) => Promise<boolean>, timings: string[]): Promise<void> {
  const catalog = assertIdentifier(options.catalog, 'catalog');
  const schema = assertIdentifier(options.schema, 'schema');
  const copy = options.roundTrip && options.loadMode === 'copy';
  // Copy mode needs staging the warehouse reads: the given S3 location, or for the local warehouse a local S3.
  const staging = copy ? await copyStaging(options) : undefined;
  let warehouse: Awaited<ReturnType<typeof openWarehouse>> | undefined;
  const connected = await step('warehouse connection', async () => {
    warehouse = await openWarehouse({ ...options, ...(staging?.storage ? { storage: staging.storage } : {}) });
    await warehouse.session.execute('SELECT 1 AS ok');
    return warehouse.where;
  });
  if (!connected || !warehouse) return;
  const wh = warehouse.session;
  const probe = `${quote(catalog)}.${quote(schema)}.\`_cloudsuite_sync_probe\``;
  try {
    (await step(`USE CATALOG ${catalog}`, async () => (await wh.execute(`USE CATALOG ${quote(catalog)}`), 'granted'))) &&
      // Look first: a principal without CREATE SCHEMA on the catalog loads into an existing schema.
      (await step(`schema ${catalog}.${schema}`, async () => {
        const found = await wh.execute(`SHOW SCHEMAS IN ${quote(catalog)} LIKE '${schema}'`);
        if (found.length > 0) return 'exists';
        await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${quote(catalog)}.${quote(schema)}`);
        return 'created (the principal may create schemas)';
      })) &&
      (await step('CREATE TABLE, MODIFY, SELECT', async () => {
        await wh.execute(`CREATE TABLE IF NOT EXISTS ${probe} (probe INT) USING DELTA`);
        await wh.execute(`INSERT INTO ${probe} VALUES (1)`);
        await wh.execute(`SELECT count(*) AS n FROM ${probe}`);
        await wh.execute(`DROP TABLE IF EXISTS ${probe}`);
        return 'granted (probe table created, written, read and dropped)';
      })) &&
      options.roundTrip &&
      (await step('load round trip', async () =>
        (await import('../warehouseRoundTrip.ts')).warehouseRoundTrip(wh, catalog, schema, {
          mode: copy ? 'copy' : 'merge',
          ...(staging ? { store: staging.store } : {}),
          onStatement: (line) => timings.push(line),
        })));
  } finally {
    await warehouse.close();
    await staging?.close();
  }
}

/** The store a copy-mode round trip stages in: S3 under --staging-url, or a local S3 the local warehouse reads. */
async function copyStaging(options: CheckOptions) {
  const { S3BlobStore } = await import('../../../shared/aws/s3BlobStore.ts');
  if (options.stagingUrl) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.stagingUrl);
    if (!match) throw new UsageError(`--staging-url must look like s3://bucket/prefix, got "${options.stagingUrl}"`);
    const { createS3Client } = await import('../../../shared/aws/clients.ts');
    const prefix = match[2]!.replace(/\/+$/, '').replace(/(^|\/)runs$/, '');
    return { store: new S3BlobStore({ client: createS3Client(), bucket: match[1]!, prefix }), close: async () => undefined };
  }
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { startLocalS3 } = await import('../../local/emulators/aws/localAwsEmulators.ts');
  const { s3ObjectStorage } = await import('../../local/emulators/databricks/index.ts');
  const dir = await mkdtemp(path.join(tmpdir(), 'cloudsuite-sync-check-s3-'));
  const s3 = await startLocalS3(dir);
  await s3.ensureBucket('cloudsuite-sync-round-trip');
  return {
    store: new S3BlobStore({ client: s3.s3, bucket: 'cloudsuite-sync-round-trip' }),
    storage: { objects: s3ObjectStorage(s3.s3), externalLocations: ['s3://cloudsuite-sync-round-trip/runs'] },
    close: async () => {
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
