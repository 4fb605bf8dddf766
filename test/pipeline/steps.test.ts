// The steps' own contracts, without the state machine: event validation, idempotent repeats (Step
// Functions may invoke a step again after losing its answer), and what failures leave in the ledger.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { createExtractHandler } from '../../functions/extract.ts';
import { createCommitHandler } from '../../functions/commit.ts';
import type { MiExecutor } from '#shared/extract/miExecutor.ts';
import { extractPlannedUnit } from '#shared/pipeline/extractPlannedUnit.ts';
import { finishRun } from '#shared/pipeline/finishRun.ts';
import { validateFlowsConfig } from '#shared/config/flowsConfig.ts';
import type { PipelineDeps } from '#shared/pipeline/pipelineDeps.ts';
import { RecordingPipelineMetrics } from '#shared/pipeline/pipelineMetrics.ts';
import { InProcessExecutions } from '#shared/pipeline/executionStatus.ts';
import { planRun } from '#shared/pipeline/planRun.ts';
import { recordFailure } from '#shared/pipeline/recordFailure.ts';
import { errorFromCaught } from '#shared/pipeline/taskError.ts';
import { pipelineState } from '#shared/pipeline/pipelineState.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { dynamoSyncState } from '#shared/state/dynamoSyncState.ts';
import { keyOf } from '#shared/state/stateTable.ts';
import { LeaseLostError } from '#shared/state/tableLease.ts';
import { loadPlannedTable } from '#shared/pipeline/loadPlannedTable.ts';
import { commitTable } from '#shared/pipeline/commitTable.ts';
import { tableKey } from '#shared/config/targetTable.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { warehouseWithSession } from '../support/warehouse.ts';
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

/** CloudSuite answers only the metadata Plan reads (the catalog's own fields); nothing else may be called. */
const noCloudSuite: MiExecutor = {
  execute: async (request) => {
    const metadata = catalogMetadata(request);
    if (metadata) return metadata;
    throw new Error('CloudSuite must not be called');
  },
};

async function planned(input: unknown) {
  const stateTableName = await dynamo.createStateTable();
  const store = new LocalFolderBlobStore(await mkdtemp(path.join(tmpdir(), 'steps-')));
  const deps: PipelineDeps = {
    ...pipelineState(dynamoSyncState({ documents: dynamo.documents, stateTableName }), store),
    connectTenant: async () => noCloudSuite,
    openWarehouse: async () => {
      throw new Error('no warehouse here');
    },
    loadTable: async () => {
      throw new Error('no loader here');
    },
    metrics: new RecordingPipelineMetrics(),
    log: capturingLog(),
    now: Date.now,
  };
  const result = await planRun({ executionName: 'exec-1', startedAt: '2026-11-20T01:00:00.000Z', input }, { ...deps, flows: validateFlowsConfig(defaultConfig), executions: new InProcessExecutions() });
  return { deps, result, stateTableName };
}

describe('the pipeline steps', () => {
  it('reject a payload they do not understand, naming the field', async () => {
    const extract = createExtractHandler(() => {
      throw new Error('not reached');
    });
    await expect(extract({ plan: 'plans/x.json' })).rejects.toThrow(/Extract event is invalid:[\s\S]*unitId/);
    const commit = createCommitHandler(() => {
      throw new Error('not reached');
    });
    await expect(commit({ plan: 'p', table: 't', units: [{ unitId: 'u', records: -1, maxChangeStamp: null, maxChangeDate: '2026' }] })).rejects.toThrow(
      /Commit event is invalid:[\s\S]*units\[0\]\.records[\s\S]*units\[0\]\.maxChangeDate/,
    );
  });

  it('Extract repeated after the unit was staged answers complete without calling CloudSuite again', async () => {
    const { deps, result } = await planned({ flows: ['suppliers'], companies: ['100'] });
    const runKey = result.runKey;
    await deps.ledger.transitionUnit(runKey, 'suppliers/100', ['pending'], 'extracting');
    await deps.ledger.transitionUnit(runKey, 'suppliers/100', ['extracting'], 'extracted', { recordsExtracted: 40 });
    expect(await extractPlannedUnit({ plan: result.plan, unitId: 'suppliers/100' }, deps)).toEqual({
      plan: result.plan, unitId: 'suppliers/100', status: 'complete', invocation: 1, records: 40,
    });
  });

  it('keeps only the error\'s name and message from a Lambda failure', async () => {
    const caught = { Error: 'MiError', Cause: JSON.stringify({ errorType: 'MiError', errorMessage: 'CRS620MI/LstSuppliers: NOK', trace: ['at x (/var/task/index.mjs:1:1)'] }) };
    const error = errorFromCaught(caught);
    expect([error.name, error.message]).toEqual(['MiError', 'CRS620MI/LstSuppliers: NOK']);
    expect(errorFromCaught({ Error: 'States.Timeout', Cause: 'Task timed out' }).message).toBe('Task timed out');

    const { deps, result } = await planned({ flows: ['suppliers'] });
    expect(await recordFailure({ plan: result.plan, table: 'main.cloudsuite.suppliers', error: caught }, deps)).toEqual({
      plan: result.plan, failed: ['suppliers/100', 'suppliers/200', 'suppliers/300'],
    });
    const unit = await deps.ledger.getUnit(result.runKey, 'suppliers/200');
    expect(unit).toMatchObject({ status: 'failed', error: { name: 'MiError', message: 'CRS620MI/LstSuppliers: NOK' } });
    expect(JSON.stringify(unit)).not.toContain('/var/task');
  });

  it('FinishRun fails units an execution left unfinished and names every failed unit in the cause', async () => {
    const { deps, result } = await planned({ flows: ['ap-ledger'] });
    const runKey = result.runKey;
    for (const unitId of ['ap-ledger/100', 'ap-ledger/200']) {
      await deps.ledger.transitionUnit(runKey, unitId, ['pending'], 'extracting');
      await deps.ledger.transitionUnit(runKey, unitId, ['extracting'], 'extracted', { recordsExtracted: 5 });
      await deps.ledger.transitionUnit(runKey, unitId, ['extracted'], 'loading');
      await deps.ledger.transitionUnit(runKey, unitId, ['loading'], 'loaded', { recordsLoaded: 5 });
      await deps.ledger.transitionUnit(runKey, unitId, ['loaded'], 'committed');
    }
    const finished = await finishRun({ plan: result.plan }, deps);
    expect(finished).toMatchObject({ status: 'failed', units: 3, failed: 1, recordsExtracted: 10, recordsLoaded: 10 });
    expect(finished.cause).toBe(
      '1 of 3 units failed: ap-ledger/300 (UnitNotFinished: stopped in status pending: execution "exec-1" ended before the unit committed). ' +
        'The other units committed. Replay the failed ones with the input {"rerunOf": "exec-1"}',
    );
    expect(await deps.ledger.getRun(runKey)).toMatchObject({ status: 'failed', summary: { byStatus: { committed: 2, failed: 1 } } });
    // Step Functions may run FinishRun again: same answer, the run stays failed.
    expect((await finishRun({ plan: result.plan }, deps)).status).toBe('failed');
  });

  it('FinishRun fails a unit that an invocation still in flight moves on after FinishRun listed it, so a rerun replays it', async () => {
    const { deps, result } = await planned({ flows: ['ap-ledger'], companies: ['100'] });
    const runKey = result.runKey;
    // The Extract of the stopped execution finishes while FinishRun runs: pending → extracting → extracted, right
    // after FinishRun read "pending" and before its transition.
    let moved = false;
    const ledger = Object.create(deps.ledger) as typeof deps.ledger;
    ledger.transitionUnit = async (...args: Parameters<typeof deps.ledger.transitionUnit>) => {
      if (!moved && args[3] === 'failed') {
        moved = true;
        await deps.ledger.transitionUnit(runKey, 'ap-ledger/100', ['pending'], 'extracting');
        await deps.ledger.transitionUnit(runKey, 'ap-ledger/100', ['extracting'], 'extracted', { recordsExtracted: 5 });
      }
      return deps.ledger.transitionUnit(...args);
    };
    const finished = await finishRun({ plan: result.plan }, { ...deps, ledger });
    expect(moved).toBe(true);
    expect(finished).toMatchObject({ status: 'failed', failed: 1 });
    expect(await deps.ledger.getUnit(runKey, 'ap-ledger/100')).toMatchObject({ status: 'failed' });
  });

  it('a stopped execution\'s Load still in flight cannot move a unit its rerun took over: the rerun loads and commits it under its own run', async () => {
    // Chaos seed 145: the stopped execution's Load finished after its rerun's Load had moved the unit to "loading"
    // and crashed. It took the unit to "loaded"; the rerun's retried Load then counted it as loaded by itself and
    // its Commit moved the watermark to stamps the rerun never loaded.
    const { deps, result } = await planned({ flows: ['ap-ledger'], companies: ['100'] });
    const unitId = 'ap-ledger/100';
    const runKey = result.runKey;
    const original = await deps.plans.get(result.plan);
    const table = tableKey(original.units[0]!.table);
    const loaded = (request: Parameters<PipelineDeps['loadTable']>[0], stamp: string) => ({
      status: 'loaded' as const, table: request.table, historyInserted: 1, currentInserted: 1, currentUpdated: 0, currentSoftDeleted: 0,
      quality: [], statements: 5, bytesSent: 0, refused: [],
      units: request.units.map((u) => ({ unitId: u.unitId, records: 1, maxChangeStamp: stamp, maxChangeDate: stamp.slice(0, 8) })),
    });
    const loads: { runId: string; units: string[] }[] = [];
    const warehouse = { openWarehouse: async () => ({ execute: async () => [], stats: { statements: 0 }, close: async () => {} }) as never };
    await deps.ledger.transitionUnit(runKey, unitId, ['pending'], 'extracting');
    await deps.ledger.transitionUnit(runKey, unitId, ['extracting'], 'extracted', { recordsExtracted: 1 });

    // The original's Load takes the unit and stalls inside the warehouse while its execution stops.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const staleLoad = loadPlannedTable({ plan: result.plan, table }, {
      ...deps, ...warehouse,
      loadTable: async (request) => {
        loads.push({ runId: request.runId, units: request.units.map((u) => u.unitId) });
        await stalled;
        return loaded(request, '20261119120000000');
      },
    });
    while (loads.length === 0) await delay(5);
    expect(await finishRun({ plan: result.plan, stoppedBy: { Error: 'States.TaskFailed', Cause: 'RecordTableFailure was killed' } }, deps)).toMatchObject({ status: 'failed', failed: 1 });

    // The rerun claims it, stages it again, and its first Load invocation crashes right after taking the unit.
    const rerun = await planRun({ executionName: 'rerun-1', startedAt: '2026-11-20T02:00:00.000Z', input: { rerunOf: 'exec-1' } }, {
      ...deps, flows: validateFlowsConfig(defaultConfig), executions: new InProcessExecutions(),
    });
    const rerunPlan = await deps.plans.get(rerun.plan);
    expect(rerunPlan.units.map((u) => u.unitId)).toEqual([unitId]);
    await deps.ledger.transitionUnit(runKey, unitId, ['pending'], 'extracting', { holder: 'rerun-1' });
    await deps.ledger.transitionUnit(runKey, unitId, ['extracting'], 'extracted', { holder: 'rerun-1', recordsExtracted: 1 });
    await deps.ledger.transitionUnit(runKey, unitId, ['extracted'], 'loading', { holder: 'rerun-1' });

    // The stale Load now finishes: it may not call the unit loaded (it is the rerun's), and it fails.
    release();
    await expect(staleLoad).rejects.toMatchObject({ name: 'LedgerTransitionError', reason: 'claimed-elsewhere', heldBy: 'rerun-1' });
    // Nor may its RecordTableFailure or FinishRun, run late, fail the rerun's unit.
    expect(await recordFailure({ plan: result.plan, table, error: { Error: 'States.TaskFailed', Cause: 'the stale Load failed' } }, deps)).toMatchObject({ failed: [] });
    const lateFinish = await finishRun({ plan: result.plan }, deps);
    expect(lateFinish).toMatchObject({ status: 'failed', failed: 1 });
    expect(lateFinish.cause).toContain(`${unitId} (taken over by rerun "rerun-1")`);
    expect(await deps.ledger.getUnit(runKey, unitId)).toMatchObject({ status: 'loading', claimedBy: 'rerun-1' });
    expect(await deps.ledger.getUnit(runKey, unitId)).toMatchObject({ status: 'loading', claimedBy: 'rerun-1' });
    // Nor may a stale Commit with the stale Load's answer move the watermark or the unit.
    const staleCommit = await commitTable({ plan: result.plan, table, units: [{ unitId, records: 1, maxChangeStamp: '20261119120000000', maxChangeDate: '20261119' }] }, deps);
    expect(staleCommit).toMatchObject({ committed: [], advanced: [] });

    // The rerun's retried Load loads the unit itself, and its Commit moves the watermark to what it loaded.
    const retried = await loadPlannedTable({ plan: rerun.plan, table }, {
      ...deps, ...warehouse,
      loadTable: async (request) => {
        loads.push({ runId: request.runId, units: request.units.map((u) => u.unitId) });
        return loaded(request, '20261120010000000');
      },
    });
    if (retried.status !== 'complete') throw new Error('the rerun\'s load did not complete');
    expect(retried).toMatchObject({ units: [{ unitId, maxChangeStamp: '20261120010000000' }] });
    expect(loads).toEqual([{ runId: original.runId, units: [unitId] }, { runId: rerunPlan.runId, units: [unitId] }]);
    const committed = await commitTable({ plan: rerun.plan, table, units: retried.units }, deps);
    expect(committed).toMatchObject({ committed: [unitId], advanced: [unitId] });
    expect(await deps.watermarks.get({ tenant: rerunPlan.units[0]!.tenant, entity: rerunPlan.units[0]!.entity, company: '100', division: '' }))
      .toMatchObject({ runId: rerunPlan.runId, changeStamp: '20261120010000000' });
    expect(await finishRun({ plan: rerun.plan }, deps)).toMatchObject({ status: 'succeeded' });
  });

  it('Load stops sending statements once its table lease was lost to another load, and leaves its units to a rerun', async () => {
    const { deps, result, stateTableName } = await planned({ flows: ['suppliers'], companies: ['100'] });
    await deps.ledger.transitionUnit(result.runKey, 'suppliers/100', ['pending'], 'extracting');
    await deps.ledger.transitionUnit(result.runKey, 'suppliers/100', ['extracting'], 'extracted', { recordsExtracted: 40 });
    const table = tableKey((await deps.plans.get(result.plan)).units[0]!.table);
    const wh = await warehouseWithSession();
    const sent: string[] = [];
    let refused: unknown;
    try {
      const load = loadPlannedTable({ plan: result.plan, table }, {
        ...deps,
        leaseTtlMs: 300,
        openWarehouse: async () => ({ execute: (...args) => wh.session.execute(...args), stats: wh.session.stats, close: async () => {} }),
        loadTable: async (request) => {
          await request.warehouse.execute('SELECT 1 AS before_takeover');
          sent.push('before_takeover');
          // This load stalls past its lease (as a frozen Lambda would); another execution takes the table over.
          await dynamo.documents.send(new UpdateCommand({
            TableName: stateTableName, Key: { pk: keyOf('lease', table), sk: 'lease' },
            UpdateExpression: 'SET expiresAt = :past', ExpressionAttributeValues: { ':past': 0 },
          }));
          expect(await deps.leases.acquire(table, 'exec-2', 60_000)).toBeDefined();
          for (let tick = 0; tick < 50; tick++) {
            await delay(20);
            try {
              await request.warehouse.execute('SELECT 2 AS after_takeover');
              sent.push('after_takeover');
            } catch (error) {
              refused = error;
              throw error;
            }
          }
          throw new Error('the lost lease never stopped the load');
        },
      });
      await expect(load).rejects.toBeInstanceOf(LeaseLostError);
    } finally {
      await wh.close();
    }
    expect(refused).toBeInstanceOf(LeaseLostError);
    // At most the statements sent before the first renewal (every 100 ms) noticed the takeover.
    expect(sent.filter((s) => s === 'after_takeover').length).toBeLessThanOrEqual(6);
    expect((await deps.ledger.getUnit(result.runKey, 'suppliers/100'))?.status).toBe('loading');
    expect((await deps.leases.current(table))?.holder).toBe('exec-2');
  });
});
