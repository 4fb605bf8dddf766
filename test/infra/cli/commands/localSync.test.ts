import { describe, expect, it } from 'vitest';
import { localSyncOptionsFrom, summaryRows } from '../../../../infra/cli/commands/localSync.ts';
import type { LocalSyncResult } from '../../../../infra/local/runLocalSync.ts';

describe('cloudsuite-sync sync (the local run of the state machine)', () => {
  it('turns command-line options into a run: lists, mode, days, real systems', () => {
    expect(
      localSyncOptionsFrom({ stateDir: '.s', flows: 'purchase-orders, suppliers', companies: '100', since: '2026-01-01', advanceDays: '2', reset: true }),
    ).toEqual({ stateDir: '.s', reset: true, flows: ['purchase-orders', 'suppliers'], companies: ['100'], since: '2026-01-01', advanceDays: 2 });
    expect(localSyncOptionsFrom({ stateDir: '.s', mode: 'full' })).toEqual({ stateDir: '.s', mode: 'full' });
    expect(localSyncOptionsFrom({ stateDir: '.s', rerunOf: 'local-1' })).toEqual({ stateDir: '.s', rerunOf: 'local-1' });
    expect(
      localSyncOptionsFrom(
        { stateDir: '.s', ionapi: 'acme.ionapi', databricksHost: 'https://adb-1.2.azuredatabricks.net', databricksPath: '/sql/1.0/warehouses/w' },
        { DATABRICKS_CLIENT_ID: 'sp', DATABRICKS_CLIENT_SECRET: 'shh' },
      ),
    ).toEqual({
      stateDir: '.s',
      ionapiFile: 'acme.ionapi',
      databricks: { host: 'https://adb-1.2.azuredatabricks.net', httpPath: '/sql/1.0/warehouses/w', clientId: 'sp', clientSecret: 'shh' },
    });
  });

  it('says what is wrong with an option, in one line', () => {
    expect(() => localSyncOptionsFrom({ stateDir: '.s', mode: 'daily' })).toThrow(/--mode must be incremental, backfill, full, reconcile, sweep, not "daily"/);
    expect(() => localSyncOptionsFrom({ stateDir: '.s', rerunOf: 'x', companies: '100' })).toThrow(/--rerun-of replays exactly the failed units/);
    expect(() => localSyncOptionsFrom({ stateDir: '.s', advanceDays: 'one' })).toThrow(/--advance-days must be a whole number/);
    expect(() => localSyncOptionsFrom({ stateDir: '.s', databricksHost: 'h' }, {})).toThrow(/needs both --databricks-host and --databricks-path/);
    expect(() => localSyncOptionsFrom({ stateDir: '.s', databricksHost: 'h', databricksPath: '/sql/x' }, {})).toThrow(/set DATABRICKS_TOKEN/);
  });

  it('summarises records per entity and company, divisions folded in', () => {
    const unit = (unitId: string, entity: string, company: string, records: number, status = 'committed') =>
      ({ unitId, entity, company, division: '', status, recordsExtracted: records, recordsLoaded: status === 'committed' ? records : 0 }) as never;
    const rows = summaryRows({
      units: [unit('gl/100/A', 'gl_accounts', '100', 30), unit('gl/100/B', 'gl_accounts', '100', 20), unit('po/200', 'purchase_orders', '200', 7, 'failed')],
    } as unknown as LocalSyncResult);
    expect(rows).toEqual([
      { entity: 'gl_accounts', company: '100', units: 2, extracted: 50, loaded: 50, status: 'committed' },
      { entity: 'purchase_orders', company: '200', units: 1, extracted: 7, loaded: 0, status: 'failed' },
    ]);
  });
});
