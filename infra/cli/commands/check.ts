// `check`: "ping your real systems" before deploying. With --ionapi, the preflight of every configured flow
// (or --flows) and company against the tenant (infra/cli/tenantPreflight.ts): a table of flow, company,
// status and what to do, and a JSON summary line; with a warehouse, its connectivity and privileges.
// Exit 0 only when every checked flow would run (warnings allowed) and every warehouse check passed.
import { connectCloudSuite, type CloudSuiteConnection } from '../../../shared/cloudsuite/cloudSuiteConnection.ts';
import { loadFlowsConfig } from '../../../shared/config/loadFlowsConfig.ts';
import { loadIonApiFile } from '../../../shared/ionapi/ionApiFile.ts';
import { assertIdentifier, quote } from '../../../shared/load/identifiers.ts';
import defaultFlowsConfig from '../../flows.config.ts';
import { result, UsageError } from '../output.ts';
import { commaList } from '../runSelection.ts';
import { tenantPreflight, type FlowCheck, type PreflightReport } from '../tenantPreflight.ts';
import { openWarehouse, type WarehouseOptions } from '../warehouseTarget.ts';

export interface CheckOptions extends WarehouseOptions {
  ionapi?: string;
  /** One company (kept from earlier versions; --companies takes a list). */
  company?: string;
  /** Comma-separated companies to check instead of each flow's own. */
  companies?: string;
  /** Comma-separated flow ids to check (default: every enabled flow of the tenant). */
  flows?: string;
  catalog: string;
  schema: string;
  /** Also prove a load end to end (see warehouseRoundTrip.ts). */
  roundTrip?: boolean;
  /** The load mode the round trip proves (default merge). */
  loadMode?: string;
  /** Copy mode with a real warehouse: where to stage the probe files (s3://bucket/prefix under the external location). */
  stagingUrl?: string;
  /** The flows configuration (default: infra/flows.config.ts); tests pass their own. */
  config?: unknown;
}

const STATUS_WORD = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;

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
  if (!options.ionapi && (options.flows || options.companies || options.company)) throw new UsageError('--flows and --companies choose what to check on a tenant: give --ionapi FILE');
  const flows = options.ionapi ? loadFlowsConfig(options.config ? { raw: options.config, source: 'the flows configuration' } : { raw: defaultFlowsConfig }) : undefined;
  const companies = commaList(options.companies) ?? (options.company ? [options.company] : undefined);
  for (const company of companies ?? []) {
    if (!/^[1-9]\d{0,2}$/.test(company)) throw new UsageError(`--companies: "${company}" is not a company number (CONO) 1-999`);
  }
  const chosenFlows = commaList(options.flows);
  if (flows && chosenFlows) {
    const unknown = chosenFlows.filter((id) => !flows.config.flows.some((f) => f.id === id));
    if (unknown.length > 0) {
      throw new UsageError(`--flows: unknown flow ${unknown.map((u) => `"${u}"`).join(', ')}; configured flows: ${flows.config.flows.map((f) => f.id).join(', ')}`);
    }
  }

  let connection: CloudSuiteConnection | undefined;
  if (options.ionapi) await step('.ionapi file', async () => {
    const config = await loadIonApiFile(options.ionapi!);
    const tenant = flows!.config.tenants[config.tenant];
    // As the pipeline calls this tenant: its call budget and per-attempt timeout.
    connection = connectCloudSuite(config, {
      maxRequestsPerSecond: tenant?.callsPerSecond ?? 40,
      ...(tenant ? { attemptTimeoutMs: tenant.attemptTimeoutSeconds * 1000 } : {}),
    });
    const unknown = config.unknownKeys.length ? ` (ignored unknown keys: ${config.unknownKeys.join(', ')})` : '';
    return `tenant ${config.tenant}, API ${config.apiBaseUrl}${unknown}`;
  });
  let report: PreflightReport | undefined;
  if (connection) {
    try {
      report = await tenantPreflight({ config: flows!, connection, ...(chosenFlows ? { flows: chosenFlows } : {}), ...(companies ? { companies } : {}) });
    } finally {
      await connection.tokens.revoke().catch(() => undefined);
    }
    for (const finding of report.lines) {
      if (finding.status === 'fail') ok = false;
      lines.push(`${STATUS_WORD[finding.status].padEnd(6)}${finding.label}: ${finding.detail}`);
    }
  }
  const timings: string[] = [];
  if (warehouseWanted) await checkWarehouse(options, step, timings);
  for (const line of lines) result(line);
  if (timings.length) {
    result('statements of the round trip (time, bound parameters, statement):');
    for (const line of timings) result(`      ${line}`);
  }
  const failedFlows = report ? [...new Set(report.flows.filter((f) => f.status === 'fail').map((f) => f.flow))] : [];
  if (report) {
    result('');
    printFlowTable(report.flows);
  }
  result('');
  if (failedFlows.length > 0) result(`flows that would fail: ${failedFlows.join(', ')}`);
  const passed = ok && failedFlows.length === 0;
  result(passed ? 'all checks passed' : 'some checks failed');
  if (report) {
    result(
      JSON.stringify({
        tenant: report.tenant,
        ok: passed,
        flows: report.flows.length,
        failed: report.flows.filter((f) => f.status === 'fail').length,
        warned: report.flows.filter((f) => f.status === 'warn').length,
        failedFlows,
        blankDivision: report.blankDivision,
        checks: report.flows.map((f) => ({ flow: f.flow, company: f.company, status: f.status, notes: f.notes, ...(f.info ? { info: f.info } : {}) })),
      }),
    );
  }
  return passed ? 0 : 1;
}

/** flow, company, status, what to do: one line per flow × company, one more per further note. */
function printFlowTable(checks: FlowCheck[]): void {
  const header = ['flow', 'company', 'status', 'what to do'];
  const rows = checks.flatMap((c) => {
    const [first = `nothing (${c.info ?? 'ready'})`, ...more] = c.notes;
    return [[c.flow, c.company, STATUS_WORD[c.status], first], ...more.map((n) => ['', '', '', n])];
  });
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  result(line(header));
  for (const row of rows) result(line(row));
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
