// Pacing under the licence, shared by every extraction of a tenant: each Extract gets the tenant's budget
// divided by the extractions that can run at once, so together they stay under it. Measured against the
// CloudSuite emulator: the times at which extraction calls reached M3 during a real local run.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { runLocalSync } from '../../infra/local/runLocalSync.ts';
import { defaultCatalog } from '#shared/catalog/defaultCatalog.ts';
import type { FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { tenantCallOptions, unitShare } from '#shared/pipeline/tenantCallOptions.ts';
import { capturingLog } from '../support/cloudSuite.ts';

describe('the share of a tenant\'s call budget', () => {
  it('divides the budget by the extractions that can run at once', () => {
    expect(unitShare(40, 33, 10)).toBe(4);
    expect(unitShare(40, 2, 10)).toBe(20);
    expect(unitShare(40, 0, 10)).toBe(40);
  });

  it('gives Plan the whole budget and each unit its share, with the timeout in ms', () => {
    const tenant = { callsPerSecond: 40, unitCallsPerSecond: 4, attemptTimeoutSeconds: 180 };
    expect(tenantCallOptions(tenant)).toEqual({ maxRequestsPerSecond: 40, attemptTimeoutMs: 180_000 });
    expect(tenantCallOptions(tenant, 'unit')).toEqual({ maxRequestsPerSecond: 4, attemptTimeoutMs: 180_000 });
    // A plan written before these settings existed: unpaced, the client's default timeout.
    expect(tenantCallOptions({}, 'unit')).toEqual({});
  });
});

describe('pacing shared across concurrent extractions', () => {
  const scale = process.env.CLOUDSUITE_SYNC_TIME_SCALE;
  afterEach(() => {
    process.env.CLOUDSUITE_SYNC_TIME_SCALE = scale;
  });

  it('keeps every nominal second of extraction calls within the tenant\'s budget, with several units at once', async () => {
    // Pacing is scaled like every other wait: at 0.2, one nominal second of the budget is 200 real ms.
    const SCALE = 0.2;
    process.env.CLOUDSUITE_SYNC_TIME_SCALE = String(SCALE);
    const BUDGET = 20;
    const CONCURRENCY = 4;
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    config.tenants.ACME_PRD!.callsPerSecond = BUDGET;
    config.maxConcurrency = CONCURRENCY;
    // Small pages so each of the nine units makes about a dozen calls.
    config.extraEntities = [{ ...defaultCatalog.get('gl_accounts')!, pageSize: 3 }];
    const extraction: number[] = [];
    const result = await runLocalSync(
      { stateDir: await mkdtemp(path.join(tmpdir(), 'pacing-')), config, flows: ['gl-accounts'], progress: () => undefined, log: capturingLog() },
      {
        onCloudSuite: (emulator) => {
          emulator.onBeforeMiCall = ({ program, atMs }) => {
            if (program === 'CRS630MI') extraction.push(atMs);
          };
        },
      },
    );
    expect(result.status).toBe('succeeded');
    expect(result.plan!.tenants.ACME_PRD!.unitCallsPerSecond).toBe(BUDGET / CONCURRENCY);
    expect(extraction.length).toBeGreaterThan(3 * BUDGET);

    // The most calls that reached M3 in any window of one nominal second.
    const window = 1000 * SCALE;
    let peak = 0;
    for (let i = 0, j = 0; i < extraction.length; i++) {
      while (extraction[i]! - extraction[j]! >= window) j++;
      peak = Math.max(peak, i - j + 1);
    }
    const seconds = (extraction.at(-1)! - extraction[0]!) / window;
    console.log(
      `pacing: ${extraction.length} extraction calls in ${seconds.toFixed(1)} nominal s = ${(extraction.length / seconds).toFixed(1)} calls/s on average, ` +
        `at most ${peak} in any nominal second; budget ${BUDGET}/s over ${CONCURRENCY} concurrent units`,
    );
    // Each unit's client fires at most (its share + 1) calls in a window: at most BUDGET + CONCURRENCY together.
    expect(peak).toBeLessThanOrEqual(BUDGET + CONCURRENCY);
  });
});
