// The counterexample chaos found (mid-run event "midnight-mid-run" with overlapDays 0), pinned down: a run
// that is still paging a unit when M3's calendar passes midnight reads new-day changes behind its cursor,
// so its watermark names the new day, while a change made before midnight to a record it had already
// passed was never read. With an overlap of 0 days the next window started at the new day and that change
// was lost for good; the configuration now requires at least one day.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { STATE_TABLE, type TaskHandler } from '../../infra/local/runLocalSync.ts';
import { ConfigError } from '#shared/config/configError.ts';
import { validateFlowsConfig, type FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { DynamoWatermarkStore } from '#shared/state/dynamoWatermarkStore.ts';
import { CLEAN, ScenarioRun } from './runScenario.ts';
import { planScenario } from './scenarioPlan.ts';

let run: ScenarioRun | undefined;
afterAll(() => run?.session.close());

describe('a run that pages across M3 midnight', () => {
  it('loses nothing: the next window re-reads the day before the watermark', async () => {
    run = new ScenarioRun({ ...planScenario(5), overlapDays: 1, maxConcurrency: 1, pageSize: 5, days: [] }, {});
    await run.start(await mkdtemp(path.join(tmpdir(), 'chaos-midnight-')));
    expect((await run.execute(0, CLEAN)).status).toBe('succeeded');
    const { emulator, session, awsClients } = run;
    emulator.clock.advanceDays(1);
    emulator.mutate({ updates: 30, table: 'MPLINE', company: '100' });

    // Three calls into the order lines of company 100: late changes of the day (some behind the cursor),
    // midnight, and changes of the new day (some ahead of it, so the watermark moves to the new day).
    let unit = '';
    let calls = 0;
    const before = emulator.onBeforeMiCall!;
    emulator.onBeforeMiCall = (call) => {
      if (unit === 'purchase-order-lines/100' && ++calls === 3) {
        emulator.mutate({ updates: 25, table: 'MPLINE', company: '100' });
        emulator.clock.advanceDays(1);
        emulator.mutate({ updates: 25, table: 'MPLINE', company: '100' });
      }
      return before(call);
    };
    const tracking = (state: string, handler: TaskHandler): TaskHandler =>
      state !== 'Extract'
        ? handler
        : async (input) => {
            unit = (input as { unitId: string }).unitId;
            try {
              return await handler(input);
            } finally {
              unit = '';
            }
          };
    const crossing = await session.execute({}, { wrapTask: tracking });
    expect(crossing.status).toBe('succeeded');
    expect(calls).toBeGreaterThanOrEqual(3);
    run.keys.observe();
    // The dangerous state: the unit's watermark names the new day, and a change of the day before is missing.
    const newDay = emulator.clock.today();
    const watermarks = await new DynamoWatermarkStore({ documents: awsClients.documents, stateTableName: STATE_TABLE }).list('ACME_PRD');
    expect(watermarks.find((w) => w.entity === 'purchase_order_lines' && w.company === '100')?.changeDate).toBe(newDay);
    expect((await run.converge()).problems.join('\n')).toMatch(/purchase_order_lines \["100",.*stale/);

    emulator.clock.advanceDays(1);
    run.keys.observe();
    const next = await session.execute({});
    expect(next.status).toBe('succeeded');
    const report = await run.converge();
    expect(report.problems).toEqual([]);
  }, 120_000);

  it('is why the configuration refuses an overlap of 0 days', () => {
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    config.flows[3]!.overlapDays = 0;
    expect(() => validateFlowsConfig(config, 'flows.config.ts')).toThrow(ConfigError);
    expect(() => validateFlowsConfig(config, 'flows.config.ts')).toThrow(/overlapDays: at least 1/);
  });
});
