import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import type { MiExecutor } from '#shared/extract/miExecutor.ts';
import { validateFlowsConfig, type FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { InProcessExecutions } from '#shared/pipeline/executionStatus.ts';
import { planRun } from '#shared/pipeline/planRun.ts';
import type { PlanDeps } from '#shared/pipeline/planStep.ts';
import { pipelineState } from '#shared/pipeline/pipelineState.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { dynamoSyncState } from '#shared/state/dynamoSyncState.ts';
import { summarizeUnits } from '#shared/state/runLedger.ts';
import { startDynalite, type DynamoEmulator } from '../support/awsEmulators.ts';
import { catalogMetadata } from '../support/catalogMetadata.ts';
import { capturingLog } from '../support/cloudSuite.ts';

let dynamo: DynamoEmulator;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

/** M3 as far as Plan sees it: the catalog's fields as the tenant's metadata, MNS100MI/LstDivisions per company (division codes are at most 3 characters). */
const divisionsMi: MiExecutor = {
  async execute(request) {
    const metadata = catalogMetadata(request);
    if (metadata) return metadata;
    const company = request.inputs?.CONO ?? '';
    return { records: ['A1', 'B9'].map((d) => ({ CONO: company, DIVI: `${company.slice(0, 1)}${d}` })) } as never;
  },
};

async function setUp(config: FlowsConfigInput = defaultConfig) {
  const stateTableName = await dynamo.createStateTable();
  const executions = new InProcessExecutions();
  const store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'plan-')));
  const deps: PlanDeps = {
    ...pipelineState(dynamoSyncState({ documents: dynamo.documents, stateTableName }), store),
    connectTenant: async () => divisionsMi,
    log: capturingLog(),
    now: Date.now,
    flows: validateFlowsConfig(config),
    executions,
  };
  const plan = (executionName: string, input: unknown) => planRun({ executionName, startedAt: '2026-11-20T01:00:05.000Z', input }, deps);
  return { deps, plan, executions };
}

const withInitialSince = (): FlowsConfigInput => {
  const config = structuredClone(defaultConfig) as FlowsConfigInput;
  config.flows = config.flows.map((f) => (f.id === 'purchase-order-lines' ? { ...f, initialSince: '2024-01-01' } : f));
  return config;
};

describe('Plan', () => {
  it('expands flows × companies × divisions into units with windows from watermarks minus the overlap', async () => {
    const { deps, plan } = await setUp(withInitialSince());
    const key = { tenant: 'ACME_PRD', entity: 'purchase_orders', company: '100', division: '' };
    await deps.watermarks.advance(key, { changeDate: '20261110', changeStamp: '2026111000001000000000000000000', runId: 'earlier' });

    const result = await plan('exec-1', {});
    expect(result).toMatchObject({ duplicate: false, plan: 'plans/exec-1.json', runKey: 'exec-1' });
    expect(result.units).toHaveLength(8 * 3 + 3 * 2);
    expect(result.units).toContain('gl-accounts/200/2A1');
    const doc = await deps.plans.get(result.plan);
    const unit = (id: string) => doc.units.find((u) => u.unitId === id)!;
    expect(unit('purchase-orders/100')).toMatchObject({ window: { since: '20261108', until: null }, advancesWatermark: true, table: { catalog: 'main', schema: 'cloudsuite', name: 'purchase_orders' } });
    expect(unit('purchase-orders/200').window).toEqual({ since: null, until: null });
    expect(unit('purchase-order-lines/300').window).toEqual({ since: '20240101', until: null });
    expect(unit('suppliers/100').window).toEqual({ since: null, until: null });
    expect(unit('gl-accounts/100/1A1').unitPrefix).toBe(`runs/ACME_PRD/${doc.runId}/gl-accounts/100/1A1`);
    expect(Object.keys(doc.entities).sort()).toHaveLength(9);
    // Each extraction's share of the tenant's 40 calls/s: ten may run at once.
    expect(doc.tenants).toEqual({
      ACME_PRD: { secretName: 'cloudsuite-sync/tenants/ACME_PRD', timeZone: 'Europe/Stockholm', callsPerSecond: 40, attemptTimeoutSeconds: 120, unitCallsPerSecond: 4 },
    });
    const units = await deps.ledger.listUnits('exec-1');
    expect(units.every((u) => u.status === 'pending')).toBe(true);
    expect(units).toHaveLength(30);
  });

  it('plans a per-company backfill from the console input: its window, and no watermark moves', async () => {
    const { deps, plan } = await setUp();
    const result = await plan('backfill-1', { flows: ['purchase-orders', 'gl-accounts'], companies: '200', divisions: ['2B9'], since: '2025-01-01', until: '2025-03-31' });
    expect(result.units).toEqual(['purchase-orders/200', 'gl-accounts/200/2B9']);
    const doc = await deps.plans.get(result.plan);
    expect(doc.mode).toBe('backfill');
    expect(doc.units[0]).toMatchObject({ window: { since: '20250101', until: '20250331' }, advancesWatermark: false });
    expect(doc.units[1]).toMatchObject({ window: { since: null, until: null }, advancesWatermark: false });
  });

  it('plans a full read that still advances watermarks', async () => {
    const { deps, plan } = await setUp();
    await deps.watermarks.advance({ tenant: 'ACME_PRD', entity: 'ap_ledger', company: '100', division: '' }, { changeDate: '20261110', changeStamp: '1', runId: 'x' });
    const doc = await deps.plans.get((await plan('full-1', { flows: 'suppliers', mode: 'full' })).plan);
    expect(doc.units.map((u) => [u.unitId, u.window.since, u.advancesWatermark])).toEqual([
      ['suppliers/100', null, true],
      ['suppliers/200', null, true],
      ['suppliers/300', null, true],
    ]);
  });

  it('splits a full read or backfill of a ledger into sub-units by accounting year, and of invoice batches by division; incremental runs stay whole', async () => {
    const { deps, plan } = await setUp();
    const full = await deps.plans.get((await plan('full-split', { flows: 'ap-ledger', mode: 'full', companies: ['100'] })).plan);
    // The run starts in 2026 (Europe/Stockholm): the last six years as ranges, everything older in the first.
    expect(full.units.map((u) => [u.unitId, u.part?.range.from, u.part?.range.to, u.part?.of, u.advancesWatermark])).toEqual([
      ['ap-ledger/100/~1', null, '2022', 6, true],
      ['ap-ledger/100/~2', '2022', '2023', 6, true],
      ['ap-ledger/100/~3', '2023', '2024', 6, true],
      ['ap-ledger/100/~4', '2024', '2025', 6, true],
      ['ap-ledger/100/~5', '2025', '2026', 6, true],
      ['ap-ledger/100/~6', '2026', null, 6, true],
    ]);
    expect(full.units[1]!.unitPrefix).toBe(`runs/ACME_PRD/${full.runId}/ap-ledger/100/~2`);
    // Sub-units are units of their own for the ledger and for the tenant's call budget.
    expect((await deps.ledger.listUnits(full.runKey)).map((u) => u.unitId).sort()).toEqual(full.units.map((u) => u.unitId).sort());
    expect(full.tenants.ACME_PRD!.unitCallsPerSecond).toBe(40 / 6);

    const backfill = await deps.plans.get((await plan('backfill-split', { flows: 'supplier-invoices', mode: 'backfill', companies: ['200'], since: '2025-01-01' })).plan);
    // Divisions 2A1 and 2B9: the smallest shares its range with anything below it.
    expect(backfill.units.map((u) => [u.unitId, u.part?.range, u.window.since, u.advancesWatermark])).toEqual([
      ['supplier-invoices/200/~1', { field: 'DIVI', from: null, to: '2B9' }, '20250101', false],
      ['supplier-invoices/200/~2', { field: 'DIVI', from: '2B9', to: null }, '20250101', false],
    ]);

    const incremental = await deps.plans.get((await plan('incr', { flows: 'ap-ledger', companies: ['100'] })).plan);
    expect(incremental.units.map((u) => [u.unitId, u.part])).toEqual([['ap-ledger/100', undefined]]);
  });

  it('plans a key sweep: one whole key-only unit per scope of the flows that sweep, no window, no watermark move, never split', async () => {
    const { deps, plan } = await setUp(withInitialSince());
    await deps.watermarks.advance({ tenant: 'ACME_PRD', entity: 'purchase_orders', company: '100', division: '' }, { changeDate: '20261110', changeStamp: '1', runId: 'x' });
    // Every enabled flow: the snapshots and the ledgers (deleteDetection "none" by default) are left out.
    const all = await deps.plans.get((await plan('sweep-1', { mode: 'sweep' })).plan);
    expect(all.mode).toBe('sweep');
    expect(all.flows).toEqual(['purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines']);
    expect(all.units).toHaveLength(4 * 3);
    for (const unit of all.units) {
      expect(unit, unit.unitId).toMatchObject({ window: { since: null, until: null }, advancesWatermark: false, complete: true, keysOnly: true });
      expect(unit.part, unit.unitId).toBeUndefined();
    }
    // A schedule's sweep: the same units (supplier invoices would split by division in a full read; a sweep never splits).
    const scheduled = await deps.plans.get((await plan('sweep-2', {
      trigger: 'schedule', schedule: 'sweep-daily-2000-europe-stockholm', scheduledTime: '2026-11-20T19:00:00Z', mode: 'sweep', flows: ['supplier-invoices', 'ap-ledger'],
    })).plan);
    expect(scheduled.units.map((u) => [u.unitId, u.keysOnly])).toEqual([
      ['supplier-invoices/100', true], ['supplier-invoices/200', true], ['supplier-invoices/300', true],
    ]);
    // An operator who names a flow without a sweep is told so (nothing would happen).
    await expect(plan('sweep-3', { mode: 'sweep', flows: ['gl-transactions'] })).rejects.toThrow(/flows: "gl-transactions" has no key sweep .*"mode": "reconcile" to find deletes/);
    // …unless the flow asks for one.
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    config.flows = config.flows.map((f) => (f.id === 'gl-transactions' ? { ...f, deleteDetection: 'sweep' as const } : f));
    const ledger = await (await setUp(config)).plan('sweep-4', { mode: 'sweep', flows: ['gl-transactions'], companies: ['100'] });
    expect(ledger.units).toEqual(['gl-transactions/100']);
  });

  it('ends a second delivery of the same scheduled start quietly, and reuses its own plan when Plan is retried', async () => {
    const { plan } = await setUp();
    const input = { trigger: 'schedule', schedule: 'daily-0230-europe-stockholm', scheduledTime: '2026-11-20T01:30:00Z', flows: ['ap-ledger', 'gl-transactions'] };
    const first = await plan('exec-a', input);
    expect(first).toMatchObject({ duplicate: false, runKey: 'schedule#daily-0230-europe-stockholm#2026-11-20T01:30:00Z' });
    expect(first.units).toHaveLength(6);
    const again = await plan('exec-a', input);
    expect({ ...again, message: '' }).toEqual({ ...first, message: '' });
    const duplicate = await plan('exec-b', input);
    expect(duplicate).toMatchObject({ duplicate: true, units: [], plan: '' });
    expect(duplicate.message).toMatch(/already started by execution "exec-a"/);
    const nextDay = await plan('exec-c', { ...input, scheduledTime: '2026-11-21T01:30:00Z' });
    expect(nextDay.duplicate).toBe(false);
  });

  it('gives each failed unit to one rerun when two reruns of the same execution start at once; a retried Plan keeps its own', async () => {
    const { deps, plan } = await setUp();
    const original = await plan('orig', { flows: ['suppliers', 'ap-ledger'] });
    for (const unitId of original.units) await deps.ledger.transitionUnit(original.runKey, unitId, ['pending'], 'failed', { error: new Error('boom') });
    await deps.ledger.finishRun(original.runKey, 'failed', summarizeUnits(await deps.ledger.listUnits(original.runKey), 'all failed'));

    const [a, b] = await Promise.all([plan('rerun-a', { rerunOf: 'orig' }), plan('rerun-b', { rerunOf: 'orig' })]);
    expect([...a.units, ...b.units].sort()).toEqual([...original.units].sort());
    expect(a.units.filter((u) => b.units.includes(u))).toEqual([]);
    for (const [rerun, units] of [['rerun-a', a.units], ['rerun-b', b.units]] as const) {
      for (const unitId of units) expect(await deps.ledger.getUnit(original.runKey, unitId)).toMatchObject({ status: 'pending', claimedBy: rerun });
    }
    // Plan retried by Step Functions: the same units, none taken from the other rerun.
    expect((await plan('rerun-a', { rerunOf: 'orig' })).units).toEqual(a.units);
    expect((await plan('rerun-b', { rerunOf: 'orig' })).units).toEqual(b.units);
  });

  it('replays an execution that ended without closing its run (its FinishRun died), once it is no longer running', async () => {
    const { deps, plan, executions } = await setUp();
    const original = await plan('died', { flows: ['suppliers'] });
    const [done, ...rest] = original.units;
    const path = ['pending', 'extracting', 'extracted', 'loading', 'loaded', 'committed'] as const;
    for (let i = 1; i < path.length; i++) await deps.ledger.transitionUnit(original.runKey, done!, [path[i - 1]!], path[i]!);
    await deps.ledger.transitionUnit(original.runKey, rest[0]!, ['pending'], 'extracting');

    // While it runs, a rerun is refused.
    await executions.track('died', async () => {
      await expect(plan('too-early', { rerunOf: 'died' })).rejects.toThrow(/execution "died" is still running \(RUNNING\); wait for it to end/);
    });
    // Once it has ended, the rerun closes its run and replays what did not commit.
    const rerun = await plan('rerun-1', { rerunOf: 'died' });
    expect(rerun.units.sort()).toEqual([...rest].sort());
    const closed = await deps.ledger.getRun(original.runKey);
    expect(closed).toMatchObject({ status: 'failed' });
    expect(JSON.stringify(closed)).toContain('The execution stopped early (ExecutionEnded: execution \\"died\\" ended (GONE) without closing its run)');
    expect(await deps.ledger.getUnit(original.runKey, done!)).toMatchObject({ status: 'committed' });
    expect(await deps.ledger.getUnit(original.runKey, rest[0]!)).toMatchObject({ status: 'pending', claimedBy: 'rerun-1' });
  });

  it('rejects console input it cannot honour, saying which field and why', async () => {
    const { plan } = await setUp();
    await expect(plan('bad-1', { flows: ['invoices'] })).rejects.toThrow(/flows: unknown flow "invoices"; configured flows: suppliers/);
    await expect(plan('bad-2', { flows: ['suppliers'], companies: ['999'] })).rejects.toThrow(/companies: 999 not configured/);
    await expect(plan('bad-3', { flows: ['suppliers'], divisions: ['A01'] })).rejects.toThrow(/divisions: none of the selected flows/);
    await expect(plan('bad-4', { since: '2026-13-01' })).rejects.toThrow(/since: a calendar date/);
    await expect(plan('bad-5', { rerunOf: 'never-ran' })).rejects.toThrow(/no plan for execution "never-ran"/);
  });

  it('refuses a run too large for the 25,000-event execution history', async () => {
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    const companies = Array.from({ length: 900 }, (_, i) => String(i + 1));
    config.flows = [{ id: 'orders', entity: 'purchase_orders', tenant: 'ACME_PRD', companies, tablePerCompany: true, schedule: { cron: '0 2 * * ? *', timeZone: 'UTC' } }];
    const { plan } = await setUp(config);
    await expect(plan('huge', {})).rejects.toThrow(/900 units in 900 tables: about 24336 Step Functions history events/);
    expect((await plan('half', { companies: companies.slice(0, 450) })).units).toHaveLength(450);
  });

  it('refuses a division M3 lists that is not a division code, before it becomes a unit id or staging key', async () => {
    const { deps } = await setUp();
    const hostile: MiExecutor = { execute: async () => ({ records: [{ CONO: '100', DIVI: 'A01' }, { CONO: '100', DIVI: '../x' }] }) as never };
    const failing = await planRun(
      { executionName: 'bad-divisions-2', startedAt: '2026-11-20T01:00:05.000Z', input: { flows: ['gl-accounts'], companies: ['100'] } },
      { ...deps, connectTenant: async () => hostile },
    ).then(() => undefined, (e: unknown) => e as Error);
    expect(failing?.name).toBe('InvalidDivisionError');
    expect(failing?.message).toMatch(/^MNS100MI\/LstDivisions for company 100 listed the division "\.\.\/x", which is not a division code/);
    expect(await deps.plans.find('plans/bad-divisions-2.json')).toBeUndefined();
    expect(await deps.ledger.listUnits('bad-divisions-2')).toEqual([]);
  });
});
