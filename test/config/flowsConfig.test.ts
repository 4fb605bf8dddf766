import { describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { ConfigError } from '#shared/config/configError.ts';
import { DEFAULT_ENTITY_IDS } from '#shared/catalog/defaultCatalog.ts';
import { cronProblem, deleteDetectionOf, validateFlowsConfig, type FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { targetTableOf } from '#shared/config/targetTable.ts';
import { scheduleGroups } from '../../infra/stack/flowSchedules.ts';

function withFlow(patch: Record<string, unknown>, index = 0): FlowsConfigInput {
  const config = structuredClone(defaultConfig) as FlowsConfigInput;
  config.flows[index] = { ...config.flows[index]!, ...patch } as FlowsConfigInput['flows'][number];
  return config;
}

function problems(raw: unknown): string {
  try {
    validateFlowsConfig(raw, 'infra/flows.config.ts');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('the flows configuration', () => {
  it('ships the nine default entities for companies 100, 200 and 300, nightly in Stockholm with a staggered ledger slot', () => {
    const { config } = validateFlowsConfig(defaultConfig);
    expect(config.flows.map((f) => f.entity).sort()).toEqual([...DEFAULT_ENTITY_IDS].sort());
    for (const flow of config.flows) {
      expect(flow.companies).toEqual(['100', '200', '300']);
      expect(flow.schedule.timeZone).toBe('Europe/Stockholm');
      expect(flow.enabled).toBe(true);
      expect(flow.maxVanishedShare).toBe(0.05);
    }
    expect(config.flows.find((f) => f.entity === 'purchase_orders')?.overlapDays).toBe(2);
    const groups = scheduleGroups(validateFlowsConfig(defaultConfig));
    expect(groups.map((g) => [g.name, g.cron, g.mode, g.flows.length])).toEqual([
      ['daily-0200-europe-stockholm', '0 2 * * ? *', 'incremental', 7],
      ['daily-0230-europe-stockholm', '30 2 * * ? *', 'incremental', 2],
      // Every incremental flow is reconciled weekly, Sunday night in the tenant's zone.
      [expect.stringMatching(/^reconcile-cron-[0-9a-f]{8}-europe-stockholm$/), '0 22 ? * SUN *', 'reconcile', 6],
      // The daily key sweep: purchase orders, their lines, invoice batches and their lines (not the ledgers).
      ['sweep-daily-2000-europe-stockholm', '0 20 * * ? *', 'sweep', 4],
    ]);
  });

  it('sweeps the tables M3 deletes from daily by default, never the ledgers (M3 reverses posted entries), and never a snapshot', () => {
    const { config, catalog } = validateFlowsConfig(defaultConfig);
    const detection = Object.fromEntries(config.flows.map((f) => [f.id, deleteDetectionOf(f, catalog)]));
    expect(detection).toEqual({
      suppliers: 'none', 'gl-accounts': 'none', 'purchase-agreements': 'none',
      'purchase-orders': 'sweep', 'purchase-order-lines': 'sweep', 'supplier-invoices': 'sweep', 'supplier-invoice-lines': 'sweep',
      'ap-ledger': 'none', 'gl-transactions': 'none',
    });
    const sweeps = scheduleGroups(validateFlowsConfig(defaultConfig)).filter((g) => g.mode === 'sweep');
    expect(sweeps.map((g) => [g.cron, g.timeZone, g.flows])).toEqual([
      ['0 20 * * ? *', 'Europe/Stockholm', ['purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines']],
    ]);
  });

  it('sweeps a flow on its own schedule, turns the sweep off with sweep: false or deleteDetection: "none", and sweeps a ledger only when asked', () => {
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    const flow = (id: string) => config.flows.find((f) => f.id === id)!;
    flow('purchase-orders').sweep = false;
    flow('purchase-order-lines').deleteDetection = 'none';
    flow('supplier-invoices').sweep = { cron: '15 12 * * ? *', timeZone: 'UTC' };
    flow('ap-ledger').deleteDetection = 'sweep';
    const sweeps = scheduleGroups(validateFlowsConfig(config)).filter((g) => g.mode === 'sweep');
    expect(sweeps.map((g) => [g.cron, g.timeZone, g.flows]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['0 20 * * ? *', 'Europe/Stockholm', ['supplier-invoice-lines', 'ap-ledger']],
      ['15 12 * * ? *', 'UTC', ['supplier-invoices']],
    ]);
  });

  it('refuses a sweep that would start with the flow\'s own incremental or reconcile run, and a sweep setting on a snapshot flow', () => {
    expect(problems(withFlow({ sweep: { cron: '0 2 * * ? *', timeZone: 'Europe/Stockholm' } }, 3)))
      .toMatch(/flow "purchase-orders": sweep: the sweep would start together with the flow's incremental run \(cron "0 2 \* \* \? \*" in Europe\/Stockholm\)/);
    expect(problems(withFlow({ sweep: { cron: '0  22 ? * SUN *', timeZone: 'Europe/Stockholm' } }, 3))).toMatch(/sweep: the sweep would start together with the flow's reconcile run/);
    // The default sweep time collides with an incremental schedule at 20:00: the operator must choose.
    expect(problems(withFlow({ schedule: { cron: '0 20 * * ? *', timeZone: 'Europe/Stockholm' } }, 4))).toMatch(/flow "purchase-order-lines": sweep: .*incremental run/);
    expect(problems(withFlow({ deleteDetection: 'sweep' }, 0))).toMatch(/flow "suppliers": deleteDetection: entity "suppliers" is a snapshot/);
    expect(problems(withFlow({ deleteDetection: 'always' }, 3))).toMatch(/flow "purchase-orders"[\s\S]*deleteDetection/);
  });

  it('reconciles an incremental flow on its own schedule, or not at all with reconcile: false; a snapshot flow never', () => {
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    const flow = (id: string) => config.flows.find((f) => f.id === id)!;
    flow('ap-ledger').reconcile = false;
    flow('gl-transactions').reconcile = { cron: '0 4 1 * ? *', timeZone: 'UTC' };
    flow('suppliers').reconcile = { cron: '0 4 1 * ? *', timeZone: 'UTC' };
    const reconciles = scheduleGroups(validateFlowsConfig(config)).filter((g) => g.mode === 'reconcile');
    expect(reconciles.map((g) => [g.cron, g.timeZone, g.flows]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['0 22 ? * SUN *', 'Europe/Stockholm', ['purchase-orders', 'purchase-order-lines', 'supplier-invoices', 'supplier-invoice-lines']],
      ['0 4 1 * ? *', 'UTC', ['gl-transactions']],
    ]);
  });

  it('names the flow and the field of every problem', () => {
    const message = problems(withFlow({ schedule: { cron: '0 2 * * *', timeZone: 'Europe/Stokholm' }, overlapDays: -1 }, 3));
    expect(message).toContain('flow "purchase-orders"');
    expect(message).toMatch(/schedule\.cron: has 5 fields; EventBridge cron has 6/);
    expect(message).toMatch(/schedule\.timeZone: an IANA time zone name/);
    expect(message).toMatch(/overlapDays: /);
  });

  it.each([
    ['a dot', 'main.cloud'],
    ['a backtick', 'main`x'],
    ['a space', 'my schema'],
    ['upper case', 'Finance'],
    ['a quote', "o'brien"],
  ])('refuses a catalog, schema or table name with %s', (_what, name) => {
    expect(problems(withFlow({ target: { schema: name } }))).toMatch(/flow "suppliers" is invalid:[\s\S]*target\.schema: lower-case letters, digits and _ only/);
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    config.warehouse.catalog = name;
    expect(problems(config)).toMatch(/warehouse\.catalog: lower-case letters/);
  });

  it('checks references between flows, tenants and entities', () => {
    expect(problems(withFlow({ tenant: 'OTHER' }))).toMatch(/flow "suppliers": tenant: unknown tenant "OTHER"; defined tenants: ACME_PRD/);
    expect(problems(withFlow({ entity: 'invoices' }))).toMatch(/flow "suppliers": entity: unknown entity "invoices"/);
    expect(problems(withFlow({ divisions: ['A01'] }))).toMatch(/flow "suppliers": divisions: entity "suppliers" is read per company/);
    expect(problems(withFlow({ initialSince: '2024-01-01' }))).toMatch(/initialSince: entity "suppliers" is a snapshot/);
    expect(problems(withFlow({ initialSince: '2024-02-30' }, 3))).toMatch(/flow "purchase-orders" is invalid:[\s\S]*initialSince: a calendar date/);
  });

  it('refuses two flows that would share watermarks or mix entities in one table', () => {
    const twice = structuredClone(defaultConfig) as FlowsConfigInput;
    twice.flows.push({ ...twice.flows[0]!, id: 'suppliers-again', companies: ['300'] });
    expect(problems(twice)).toMatch(/flow "suppliers-again": companies: company 300 of entity "suppliers" is already synced by flow "suppliers"/);
    const mixed = withFlow({ target: { table: 'purchase_orders' } }, 0);
    expect(problems(mixed)).toMatch(/table main\.cloudsuite\.purchase_orders is also the target of flow/);
  });

  it('resolves target tables: defaults, overrides and one table per company', () => {
    const { config } = validateFlowsConfig(withFlow({ target: { catalog: 'finance', table: 'vendors' }, tablePerCompany: true }));
    const flow = config.flows[0]!;
    expect(targetTableOf(config, flow, '200')).toEqual({ catalog: 'finance', schema: 'cloudsuite', name: 'vendors_200' });
    expect(targetTableOf(config, config.flows[1]!, '100')).toEqual({ catalog: 'main', schema: 'cloudsuite', name: 'gl_accounts' });
  });

  it('validates extra entities with the catalog rules and lets flows use them', () => {
    const config = structuredClone(defaultConfig) as FlowsConfigInput;
    config.extraEntities = [{ id: 'items', source: { kind: 'exportmi', table: 'MITMAS', prefix: 'MM' }, key: ['CONO'], fields: [], strategy: 'snapshot' }];
    expect(problems(config)).toMatch(/extraEntities: entity "items" is invalid/);
  });

  it('checks the shape of an EventBridge cron', () => {
    expect(cronProblem('0 2 * * ? *')).toBeUndefined();
    expect(cronProblem('0 6 ? * MON-FRI *')).toBeUndefined();
    expect(cronProblem('0 2 * * * *')).toMatch(/exactly one of day-of-month/);
  });
});
