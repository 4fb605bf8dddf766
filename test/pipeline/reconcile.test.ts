// Reconcile mode through the real state machine, loader and emulators: days of changes, changes M3 makes without
// a new change stamp and physical deletes (emulator knobs), then `sync --mode reconcile` brings every incremental
// table to CloudSuite's truth; a second reconcile changes nothing, and an incremental run between them undoes nothing.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocalSync, type LocalSyncOptions } from '../../infra/local/runLocalSync.ts';
import { startWarehouseEmulator } from '#emulators/databricks/index.ts';
import type { CloudSuiteEmulator, Knobs } from '#emulators/cloudsuite/index.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import {
  expectCompany200RefusedAlone, hiddenChangeKnobs as knobs, INCREMENTAL, incrementalFlows as flows, lenientConfig as config, quarterOfCompanyLinesVanish, quiet,
  smallVolume as volume,
} from '../support/incrementalSync.ts';

const hooks = (keep: (e: CloudSuiteEmulator) => void) => ({ emulator: { volume }, onCloudSuite: keep });

interface TableState {
  current: Map<string, Record<string, unknown>>;
  history: Map<string, number>;
}

async function warehouseTables(dbFile: string, entities = Object.keys(INCREMENTAL)): Promise<Map<string, TableState>> {
  const warehouse = await startWarehouseEmulator({ dbFile });
  try {
    const tables = new Map<string, TableState>();
    for (const entity of entities) {
      const current = await warehouse.query(`SELECT * FROM main.cloudsuite.${entity}`);
      const history = await warehouse.query(`SELECT _record_key, _record_hash, count(*) AS n FROM main.cloudsuite.${entity}_history GROUP BY 1, 2`);
      tables.set(entity, {
        current: new Map(current.map((r) => [String(r._record_key), r])),
        history: new Map(history.map((r) => [`${r._record_key}|${r._record_hash}`, Number(r.n)])),
      });
    }
    return tables;
  } finally {
    await warehouse.close();
  }
}

function truthOf(emulator: CloudSuiteEmulator, entity: string): Map<string, Record<string, string>> {
  const definition = defaultCatalog.get(entity)!;
  return new Map(
    emulator.truth(INCREMENTAL[entity]!.table).map((row) => [
      JSON.stringify(definition.key.map((k) => row[k] ?? '')),
      Object.fromEntries(definition.fields.map((f) => [f.name, row[f.name] ?? ''])),
    ]),
  );
}

function sameRecord(row: Record<string, unknown>, truth: Record<string, string>): boolean {
  const loaded = JSON.parse(String(row._record)) as Record<string, string>;
  return Object.keys(truth).every((k) => loaded[k] === truth[k]) && Object.keys(loaded).length === Object.keys(truth).length;
}

/** What differs between the warehouse's live rows and CloudSuite: keys still live though deleted, rows not current. */
function differences(state: TableState, truth: Map<string, Record<string, string>>) {
  const live = [...state.current.values()].filter((r) => r._deleted_at === null);
  return {
    deletedButLive: live.filter((r) => !truth.has(String(r._record_key))).map((r) => String(r._record_key)),
    stale: live.filter((r) => truth.has(String(r._record_key)) && !sameRecord(r, truth.get(String(r._record_key))!)).map((r) => String(r._record_key)),
    missing: [...truth.keys()].filter((k) => !live.some((r) => String(r._record_key) === k)),
  };
}

describe('reconcile mode', () => {
  it('brings every incremental table to the truth after days of changes, silent changes and deletes; a second reconcile changes nothing', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'reconcile-'));
    const dbFile = path.join(stateDir, 'databricks', 'warehouse.duckdb');
    let emulator: CloudSuiteEmulator | undefined;
    const keep = hooks((e) => void (emulator = e));
    const sync = async (extra: Partial<LocalSyncOptions>) => {
      const result = await runLocalSync({ ...quiet, stateDir, config, flows, emulatorKnobs: knobs, ...extra }, keep);
      expect(result.status, result.cause).toBe('succeeded');
      return result;
    };
    await sync({});
    for (let day = 0; day < 3; day++) await sync({ advanceDays: 1 });

    // What incremental runs cannot see: deleted keys still live, silently changed rows stale.
    const before = await warehouseTables(dbFile);
    const silentlyChanged = new Map<string, Set<string>>();
    let deletedButLive = 0;
    for (const entity of Object.keys(INCREMENTAL)) {
      const d = differences(before.get(entity)!, truthOf(emulator!, entity));
      expect(d.missing, entity).toEqual([]);
      deletedButLive += d.deletedButLive.length;
      silentlyChanged.set(entity, new Set(d.stale));
    }
    expect(deletedButLive).toBeGreaterThan(0);
    // Every incremental entity has rows changed without a new stamp in fields the catalog reads (the ledgers: the
    // reconciliation mark and the voucher text, never an amount).
    for (const entity of Object.keys(INCREMENTAL)) {
      expect(silentlyChanged.get(entity)!.size, `${entity}: rows changed without a new stamp`).toBeGreaterThan(0);
    }

    const reconcile = await sync({ mode: 'reconcile' });
    expect(reconcile.plan!.units.every((u) => u.complete === true && u.window.since === null)).toBe(true);
    // The data-quality figures: per flow, what was repaired and what was deleted, as the CloudWatch metrics have them.
    const figure = (name: string, flow: string) => reconcile.metrics.points.filter((p) => p.name === name && p.flow === flow).reduce((n, p) => n + p.value, 0);
    const ledger = (flow: string) => reconcile.units.filter((u) => u.flow === flow).reduce((n, u) => n + (u.quality?.changedWithoutNewStamp ?? 0), 0);
    for (const [entity, { flow }] of Object.entries(INCREMENTAL)) {
      expect(figure('ChangedWithoutNewStamp', flow), flow).toBe(silentlyChanged.get(entity)!.size);
      expect(ledger(flow), `${flow} in the run ledger`).toBe(silentlyChanged.get(entity)!.size);
      expect(figure('KeysDeletedAtSource', flow), flow).toBe(differences(before.get(entity)!, truthOf(emulator!, entity)).deletedButLive.length);
    }
    const after = await warehouseTables(dbFile);
    // …and as the warehouse has them: a _sync_quality row per entity and company of the reconcile run.
    const warehouse = await startWarehouseEmulator({ dbFile });
    try {
      const rows = await warehouse.query(`SELECT entity, company, changed_without_new_stamp AS changed FROM main.cloudsuite._sync_quality WHERE run_id = '${reconcile.plan!.runId}'`);
      expect(rows).toHaveLength(Object.keys(INCREMENTAL).length * 3);
      for (const entity of Object.keys(INCREMENTAL)) {
        expect(rows.filter((r) => r.entity === entity).reduce((n, r) => n + Number(r.changed), 0), entity).toBe(silentlyChanged.get(entity)!.size);
      }
    } finally {
      await warehouse.close();
    }
    for (const entity of Object.keys(INCREMENTAL)) {
      const truth = truthOf(emulator!, entity);
      const state = after.get(entity)!;
      expect(differences(state, truth), entity).toEqual({ deletedButLive: [], stale: [], missing: [] });
      // Every key CloudSuite no longer has carries _deleted_at; no version is twice in history.
      for (const [key, row] of state.current) if (!truth.has(key)) expect(row._deleted_at, `${entity} ${key}`).not.toBeNull();
      expect([...state.history.values()].every((n) => n === 1), `${entity}: a version twice in history`).toBe(true);
      // A silently changed row: its old and its new version are both in history.
      for (const key of silentlyChanged.get(entity)!) {
        expect(state.history.has(`${key}|${String(before.get(entity)!.current.get(key)!._record_hash)}`), `${entity} ${key} old`).toBe(true);
        expect(state.history.has(`${key}|${String(state.current.get(key)!._record_hash)}`), `${entity} ${key} new`).toBe(true);
      }
    }

    // An incremental run in between (same day: it re-reads its overlap) undoes nothing; a second reconcile changes nothing.
    await sync({});
    expect(await warehouseTables(dbFile)).toEqual(after);
    await sync({ mode: 'reconcile' });
    expect(await warehouseTables(dbFile)).toEqual(after);
  }, 600_000);

  it('refuses the unit of a company whose purchase order lines lost a quarter of their keys; the other companies commit', async () => {
    const vanished = await quarterOfCompanyLinesVanish('reconcile');
    expectCompany200RefusedAlone(vanished, 'too many keys would be marked deleted at once');
    const { before, after } = vanished;
    // The refused company's rows are as they were.
    const company200 = (rows: Record<string, unknown>[]) => rows.filter((r) => r._company === '200');
    expect(company200(after.current)).toEqual(company200(before.current));
  }, 300_000);
});
