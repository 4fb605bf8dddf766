// A tenant whose tables lack some of the catalog's fields, through the real state machine into the warehouse
// emulator: Plan reads each table's fields once, the run succeeds without those fields, the warnings reach
// the manifests, the run ledger and the execution's output, and every record lands with the remaining
// fields exact. A tenant lacking a key field fails only that entity's units, before any data call.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSync, type LocalSyncResult, type LocalSyncSession } from '../../infra/local/runLocalSync.ts';
import type { Knobs } from '#emulators/cloudsuite/index.ts';
import { readManifest } from '#shared/staging/stagedUnitReader.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { M3_SOURCE } from '../support/m3Sources.ts';

const MISSING = { MPHEAD: ['REMK', 'PUSL', 'ARAT'], MPLINE: ['SITE', 'PITT'], FPLEDG: ['REDE', 'VONO'] };
const knobs: Partial<Knobs> = { tableFields: Object.fromEntries(Object.entries(MISSING).map(([t, missing]) => [t, { missing }])) };
const ENTITY_OF_TABLE = { MPHEAD: 'purchase_orders', MPLINE: 'purchase_order_lines', FPLEDG: 'ap_ledger' } as const;

let session: LocalSyncSession;
let run: LocalSyncResult;
/** Metadata reads that reached M3, by transaction. */
const metadataCalls: string[] = [];

beforeAll(async () => {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'tenant-schemas-'));
  session = await startLocalSync({ stateDir, progress: () => undefined, log: capturingLog() }, { emulator: { seed: 3, knobs } });
  session.cloudSuiteEmulator!.onBeforeMiCall = ({ program, transaction }) => {
    if (program === 'MRS001MI' || transaction === 'LstFields') metadataCalls.push(`${program}/${transaction}`);
  };
  run = await session.execute({});
}, 180_000);
afterAll(() => session?.close());

describe('a tenant whose tables lack default fields', () => {
  it('syncs every entity, and the run\'s output and ledger name the dropped fields per entity', () => {
    expect(run.status).toBe('succeeded');
    const expected = [
      'purchase_orders: 3 configured fields not on this tenant: REMK, PUSL, ARAT',
      'purchase_order_lines: 2 configured fields not on this tenant: SITE, PITT',
      'ap_ledger: 2 configured fields not on this tenant: VONO, REDE',
    ];
    expect((run.output as { warnings: string[] }).warnings.sort()).toEqual([...expected].sort());
    expect(run.run?.summary?.warnings?.sort()).toEqual([...expected].sort());
  });

  it('reads each table\'s fields once per run, in Plan', () => {
    // Nine entities: six EXPORTMI tables (LstFields) and three MI list transactions (LstAdtFieldInf).
    expect(metadataCalls.filter((c) => c === 'EXPORTMI/LstFields')).toHaveLength(6);
    expect(metadataCalls.filter((c) => c === 'MRS001MI/LstAdtFieldInf')).toHaveLength(3);
    expect(run.plan!.schemas.ACME_PRD!.purchase_orders!.entity!.fields.map((f) => f.name)).not.toContain('REMK');
  });

  it('keeps the warning in the manifest of each unit of those entities', async () => {
    const unit = run.plan!.units.find((u) => u.entity === 'purchase_orders')!;
    const manifest = await readManifest(session.deps.store, unit.unitPrefix);
    expect(manifest.warnings).toEqual(['purchase_orders: 3 configured fields not on this tenant: REMK, PUSL, ARAT']);
    const suppliers = run.plan!.units.find((u) => u.entity === 'suppliers')!;
    expect((await readManifest(session.deps.store, suppliers.unitPrefix)).warnings).toBeUndefined();
  });

  it.each(Object.entries(ENTITY_OF_TABLE))('lands every record of %s with the remaining fields exact', async (table, entityId) => {
    const emulator = session.cloudSuiteEmulator!;
    const entity = run.plan!.schemas.ACME_PRD![entityId]!.entity!;
    const rows = await session.warehouseEmulator!.query(`SELECT _record_key, _record FROM main.cloudsuite.${entityId}`);
    const loaded = new Map(rows.map((r) => [String(r._record_key), JSON.parse(String(r._record)) as Record<string, string>]));
    const truth = ['100', '200', '300'].flatMap((c) => emulator.truth(M3_SOURCE[entityId]!.table, c));
    expect(loaded.size).toBe(truth.length);
    for (const row of truth) {
      const key = JSON.stringify(entity.key.map((k) => row[k]));
      expect(loaded.get(key), `${entityId} ${key}`).toEqual(Object.fromEntries(entity.fields.map((f) => [f.name, row[f.name]])));
    }
    const columns = Object.keys((await session.warehouseEmulator!.query(`SELECT * FROM main.cloudsuite.${entityId} LIMIT 1`))[0]!);
    for (const missing of MISSING[table as keyof typeof MISSING]) expect(columns).not.toContain(missing.toLowerCase());
  });

  it('fails only the units of an entity whose key field the tenant lacks, naming the field, before any data call', async () => {
    const emulator = session.cloudSuiteEmulator!;
    emulator.knobs.tableFields = { ...knobs.tableFields, FAPIBL: { missing: ['TRNO'] } };
    const selects: string[] = [];
    emulator.onBeforeMiCall = ({ program, transaction, query }) => {
      if (program === 'EXPORTMI' && transaction === 'Select') selects.push(query.QERY ?? '');
    };
    const second = await session.execute({ flows: ['supplier-invoice-lines', 'supplier-invoices'] });
    expect(second.status).toBe('failed');
    const byStatus = Object.groupBy(second.units, (u) => `${u.entity} ${u.status}`);
    expect(Object.keys(byStatus).sort()).toEqual(['supplier_invoice_lines failed', 'supplier_invoices committed']);
    for (const unit of byStatus['supplier_invoice_lines failed']!) {
      expect(unit.error?.name).toBe('TenantSchemaError');
      expect(unit.error?.message).toMatch(/^supplier_invoice_lines: key field TRNO is not on this tenant's table FAPIBL .*Fix: set the entity's key/);
    }
    // Only the invoice heads were read: the one Select naming FAPIBL is Plan's check that TRNO is really
    // absent (not just left out of a field list cut short), which M3 refuses without reading a row.
    expect(selects.some((q) => / from FAPIBH/.test(q))).toBe(true);
    expect(selects.filter((q) => / from FAPIBL/.test(q))).toEqual(['E6TRNO from FAPIBL']);
    expect(second.cause).toMatch(/3 of 6 units failed: supplier-invoice-lines\/100 \(TenantSchemaError: supplier_invoice_lines: key field TRNO/);
  });
});

describe('a field list cut short by a gateway that caps every answer', () => {
  it('fails those entities for the run without narrowing them, and a rerun without the cap lands every field', async () => {
    const emulator = session.cloudSuiteEmulator!;
    emulator.knobs.tableFields = knobs.tableFields!;
    const flows = ['suppliers', 'gl-accounts', 'ap-ledger'];
    // Only Plan's metadata reads see the cap (data pages past a short page anyway, just slowly).
    const capped = new Set(['MRS001MI/LstAdtFieldInf', 'EXPORTMI/LstFields']);
    emulator.onBeforeMiCall = ({ program, transaction }) => {
      emulator.knobs.maxrecsCap = capped.has(`${program}/${transaction}`) ? 4 : null;
    };
    const cut = await session.execute({ flows });
    emulator.onBeforeMiCall = undefined;
    emulator.knobs.maxrecsCap = null;
    expect(cut.status).toBe('failed');
    for (const entity of ['suppliers', 'gl_accounts', 'ap_ledger']) {
      expect(cut.plan!.schemas.ACME_PRD![entity], entity).toMatchObject({ problem: expect.stringMatching(new RegExp(`^${entity}: the field list of .* cannot be trusted this time`)) });
      for (const unit of cut.units.filter((u) => u.entity === entity)) {
        expect(unit.status).toBe('failed');
        expect(unit.error?.name).toBe('TenantSchemaError');
      }
    }

    const rerun = await session.execute({ rerunOf: cut.executionName });
    expect(rerun.status).toBe('succeeded');
    expect(rerun.plan!.schemas.ACME_PRD!.suppliers!.entity!.fields.map((f) => f.name)).toContain('PHNO');
    expect(rerun.plan!.schemas.ACME_PRD!.ap_ledger!.warnings).toEqual(['ap_ledger: 2 configured fields not on this tenant: VONO, REDE']);
    for (const [entityId, field] of [['suppliers', 'PHNO'], ['gl_accounts', 'AICL'], ['ap_ledger', 'TRCD']] as const) {
      const rows = await session.warehouseEmulator!.query(`SELECT _record FROM main.cloudsuite.${entityId}`);
      const { table, filter = () => true } = M3_SOURCE[entityId]!;
      expect(rows.length, entityId).toBe(['100', '200', '300'].flatMap((c) => emulator.truth(table, c)).filter(filter).length);
      expect(rows.every((r) => field in (JSON.parse(String(r._record)) as object)), `${entityId}.${field}`).toBe(true);
    }
  });
});
