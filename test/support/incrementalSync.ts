// What the reconcile and sweep tests share: the incremental entities and their M3 tables, the knobs and config of
// days with silent changes and deletes, and the scenario of one company losing a quarter of its purchase order
// lines before a complete read (the vanished-keys guard must refuse that company's unit alone).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { runLocalSync, type LocalSyncOptions, type LocalSyncResult } from '../../infra/local/runLocalSync.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import type { CloudSuiteEmulator, Knobs } from '#emulators/cloudsuite/index.ts';
import defaultConfig from '../../infra/flows.config.ts';
import { capturingLog } from './cloudSuite.ts';

export const quiet = { progress: () => undefined, log: capturingLog() } satisfies Partial<LocalSyncOptions>;

/** The incremental entities and their M3 tables. */
export const INCREMENTAL: Record<string, { table: string; flow: string }> = {
  purchase_orders: { table: 'MPHEAD', flow: 'purchase-orders' },
  purchase_order_lines: { table: 'MPLINE', flow: 'purchase-order-lines' },
  supplier_invoices: { table: 'FAPIBH', flow: 'supplier-invoices' },
  supplier_invoice_lines: { table: 'FAPIBL', flow: 'supplier-invoice-lines' },
  ap_ledger: { table: 'FPLEDG', flow: 'ap-ledger' },
  gl_transactions: { table: 'FGLEDG', flow: 'gl-transactions' },
};
export const incrementalFlows = Object.values(INCREMENTAL).map((e) => e.flow);
export const hiddenChangeKnobs: Partial<Knobs> = { silentChangesPerDay: 2, deletesPerDay: 1 };
// Three days of deletes in a small data set are more than the default 5 % guard: the flows allow what the tests delete.
export const lenientConfig = { ...defaultConfig, flows: defaultConfig.flows.map((f) => ({ ...f, maxVanishedShare: 0.5 })) };
export const smallVolume = { purchaseOrders: 30, invoices: 40, glTransactions: 120 };

export interface VanishedLines {
  result: LocalSyncResult;
  /** Company 200's purchase order lines in CloudSuite before, and how many of them vanished. */
  lines200: number;
  lost: number;
  /** purchase_order_lines before and after the complete read. */
  before: LinesInWarehouse;
  after: LinesInWarehouse;
}

/**
 * Syncs the purchase order lines, deletes a quarter of company 200's lines in CloudSuite, then runs `mode` (a
 * complete read of the lines: reconcile, or a key sweep).
 */
export async function quarterOfCompanyLinesVanish(mode: 'reconcile' | 'sweep'): Promise<VanishedLines> {
  const stateDir = await mkdtemp(path.join(tmpdir(), `${mode}-vanish-`));
  const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
  let emulator: CloudSuiteEmulator | undefined;
  const keep = { emulator: { volume: smallVolume }, onCloudSuite: (e: CloudSuiteEmulator) => void (emulator = e) };
  const input = { flows: ['purchase-order-lines'] };
  const first = await runLocalSync({ ...quiet, stateDir, input }, keep);
  if (first.status !== 'succeeded') throw new Error(`the first sync failed: ${first.cause}`);
  const lines200 = emulator!.truth('MPLINE', '200').length;
  const lost = Math.ceil(lines200 / 4);
  const before = await linesInWarehouse(dbFile);
  const result = await runLocalSync(
    { ...quiet, stateDir, input: { ...input, mode } },
    { ...keep, onCloudSuite: (e) => void e.mutate({ table: 'MPLINE', company: '200', deletes: lost }) },
  );
  return { result, lines200, lost, before, after: await linesInWarehouse(dbFile) };
}

/** Company 200's unit failed alone, its cause naming the guard (`refusal`, e.g. "too many keys …") with the counts. */
export function expectCompany200RefusedAlone({ result, lines200, lost }: VanishedLines, refusal: string): void {
  expect(result.status).toBe('failed');
  expect(result.units.map((u) => [u.unitId, u.status])).toEqual([
    ['purchase-order-lines/100', 'committed'], ['purchase-order-lines/200', 'failed'], ['purchase-order-lines/300', 'committed'],
  ]);
  expect(result.units.find((u) => u.unitId === 'purchase-order-lines/200')!.error).toEqual({
    name: 'VanishedKeysError',
    message: expect.stringContaining(`${refusal} (company 200: ${lost} of ${lines200} keys`),
  });
}

export interface LinesInWarehouse {
  current: Record<string, unknown>[];
  history: Record<string, unknown>[];
}

async function linesInWarehouse(dbFile: string): Promise<LinesInWarehouse> {
  const warehouse = await startWarehouseEmulator({ dbFile });
  try {
    return {
      current: await warehouse.query('SELECT * FROM main.cloudsuite.purchase_order_lines ORDER BY _record_key'),
      history: await warehouse.query('SELECT * FROM main.cloudsuite.purchase_order_lines_history ORDER BY _record_key, _record_hash'),
    };
  } finally {
    await warehouse.close();
  }
}
