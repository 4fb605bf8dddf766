// Entities resolved against a tenant's own metadata (the CloudSuite emulator with tenants that differ):
// dropped fields, the tenant's types and lengths, missing key / change-date fields, a missing table,
// metadata that cannot be read, `fields: "all"`, and change counters the tenant lacks.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { entityDefinitionSchema, type EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { extractUnit } from '#shared/extract/extractUnit.ts';
import { resolveEntity, type EntityResolution } from '#shared/extract/resolveEntity.ts';
import { readEntityFields } from '#shared/extract/tenantFields.ts';
import { changeStamp } from '#shared/staging/stagedRecord.ts';
import { connectTo, stagedRecords, tempStore } from '../support/cloudSuite.ts';

const catalog = EntityCatalog.withDefaults();
let emulator: CloudSuiteEmulator;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 41 });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...DEFAULT_KNOBS };
});

async function resolve(entity: EntityDefinition): Promise<EntityResolution> {
  return resolveEntity(entity, await readEntityFields(connectTo(emulator).mi, entity, '100'));
}

function ready(resolution: EntityResolution) {
  if (resolution.status !== 'ready') throw new Error(`expected a usable entity: ${resolution.problem}`);
  return resolution;
}

describe('resolving an entity against the tenant', () => {
  it('leaves a tenant that has every configured field as it is, verified', async () => {
    const orders = catalog.get('purchase_orders');
    const resolution = ready(await resolve(orders));
    expect(resolution).toMatchObject({ dropped: [], retyped: [], verified: true, warnings: [] });
    // As configured, plus each field's own text from the tenant's metadata (for the column comments).
    expect(resolution.entity.fields.map(({ tenantDescription: _, ...f }) => f)).toEqual(orders.fields);
    expect(resolution.entity.fields.find((f) => f.name === 'PUNO')).toMatchObject({ businessName: 'purchase_order_number', tenantDescription: expect.stringMatching(/^Purchase order/) });
  });

  it('drops configured fields the tenant lacks with one warning, and takes types and lengths from the tenant', async () => {
    emulator.knobs.tableFields = { MPHEAD: { missing: ['REMK', 'PUSL'], lengths: { YRE1: 'A20', NTAM: 'N15.2', COAM: 'N17.4' } } };
    const resolution = ready(await resolve(catalog.get('purchase_orders')));
    expect(resolution.dropped).toEqual(['REMK', 'PUSL']);
    expect(resolution.warnings).toEqual(['purchase_orders: 2 configured fields not on this tenant: REMK, PUSL']);
    const field = (name: string) => resolution.entity.fields.find((f) => f.name === name);
    expect(field('REMK')).toBeUndefined();
    expect(field('YRE1')).toMatchObject({ name: 'YRE1', type: 'A', length: 20, decimals: 0, businessName: 'your_reference' });
    expect(field('NTAM')).toMatchObject({ name: 'NTAM', type: 'N', length: 15, decimals: 2, businessName: 'net_order_value', amount: true });
    expect(resolution.retyped).toEqual([
      { field: 'YRE1', catalog: 'A36', tenant: 'A20' },
      { field: 'COAM', catalog: 'N17.2', tenant: 'N17.4' },
      { field: 'NTAM', catalog: 'N17.2', tenant: 'N15.2' },
    ]);
  });

  it('makes an entity whose key field the tenant lacks unusable, naming the field and the fix', async () => {
    emulator.knobs.tableFields = { MPLINE: { missing: ['PNLS', 'SITE'] } };
    const resolution = await resolve(catalog.get('purchase_order_lines'));
    expect(resolution).toMatchObject({ status: 'unusable', missing: ['PNLS'] });
    expect(resolution.status === 'unusable' && resolution.problem).toBe(
      "purchase_order_lines: key field PNLS is not on this tenant's table MPLINE (EXPORTMI/LstFields FILE=MPLINE), so its units cannot be read; " +
        "nothing was asked for. Fix: set the entity's key to fields the tenant has (cloudsuite-sync describe --table MPLINE lists them), in extraEntities (infra/flows.config.ts), and run again",
    );
  });

  it('makes an incremental entity without its change-date field unusable, suggesting a snapshot', async () => {
    emulator.knobs.tableFields = { FAPIBH: { missing: ['LMDT'] } };
    const resolution = await resolve(catalog.get('supplier_invoices'));
    expect(resolution.status).toBe('unusable');
    expect(resolution.status === 'unusable' && resolution.problem).toMatch(/change-date field LMDT is not on this tenant's table FAPIBH .*"strategy": "snapshot"/);
  });

  it('makes an entity whose table does not exist unusable, saying to leave the flow out', async () => {
    emulator.knobs.missingTables = ['FPLEDG'];
    const resolution = await resolve(catalog.get('ap_ledger'));
    expect(resolution.status === 'unusable' && resolution.problem).toMatch(/^ap_ledger: table FPLEDG does not exist on this tenant \(EXPORTMI\/LstFields FILE=FPLEDG: M3 answered NOK WFI0103.*leave this flow out/);
  });

  it('checks MI list transactions against MRS001MI, keeping key fields the transaction does not output', async () => {
    emulator.knobs.tableFields = { CIDMAS: { missing: ['TINO'] } };
    const suppliers = ready(await resolve(catalog.get('suppliers')));
    expect(suppliers.dropped).toEqual(['TINO']);
    const agreements = ready(await resolve(catalog.get('purchase_agreements')));
    expect(agreements.entity.fields.map((f) => f.name)).toContain('CONO');
    expect(agreements.dropped).toEqual([]);
  });

  it('uses the catalog\'s fields unverified, with a warning, when the metadata cannot be read', () => {
    const orders = catalog.get('purchase_orders');
    const resolution = ready(resolveEntity(orders, { kind: 'unavailable', source: 'EXPORTMI/LstFields FILE=MPHEAD', message: 'M3 answered NOK XAU0001' }));
    expect(resolution.verified).toBe(false);
    expect(resolution.entity).toBe(orders);
    expect(resolution.warnings).toEqual([
      "purchase_orders: fields not checked against this tenant: EXPORTMI/LstFields FILE=MPHEAD cannot be read (M3 answered NOK XAU0001); the catalog's fields and types are used",
    ]);
  });

  it('refuses a column prefix that is not the tenant\'s', async () => {
    const orders = catalog.get('purchase_orders');
    const wrong = { ...orders, source: { ...orders.source, prefix: 'IX' } } as EntityDefinition;
    const resolution = await resolve(wrong);
    expect(resolution.status === 'unusable' && resolution.problem).toMatch(/start with IA on this tenant, not IX: set source.prefix to "IA"/);
  });

  it('drops a change counter or timestamp the tenant lacks from the change stamp too', async () => {
    emulator.knobs.tableFields = { FAPIBH: { missing: ['LMTS'] } };
    const invoices = ready(await resolve(catalog.get('supplier_invoices'))).entity;
    expect(invoices.changeFields).toEqual({ date: 'LMDT', counter: 'CHNO' });
    expect(changeStamp(invoices, { LMDT: '20261120', CHNO: '7' }, 'x')).toBe(`202611201${'0'.repeat(18)}0007`);
  });
});

describe('fields: "all"', () => {
  const everything = () =>
    entityDefinitionSchema.parse({
      id: 'suppliers_all', source: { kind: 'exportmi', table: 'CIDMAS', prefix: 'ID' }, key: ['CONO', 'SUNO'], fields: 'all',
      changeFields: { date: 'LMDT', counter: 'CHNO', timestamp: 'LMTS' }, strategy: 'incremental', pageSize: 25,
    });

  it('is accepted by the catalog and resolved to every column the tenant has, extras included', async () => {
    emulator.knobs.tableFields = { CIDMAS: { missing: ['HOMP'], extra: ['ZZRF A20 Modification reference'] } };
    const entity = everything();
    expect(entity).toMatchObject({ allFields: true, fields: [] });
    const resolved = ready(await resolve(entity)).entity;
    const columns = emulator.tableInfo('CIDMAS').fields.map((f) => f.name);
    expect(resolved.fields.map((f) => f.name)).toEqual(columns);
    expect(columns).toContain('ZZRF');
    expect(columns).not.toContain('HOMP');
  });

  it('extracts every field of a wide table in column groups within the REPL limit, exactly', async () => {
    const resolved = ready(await resolve(everything())).entity;
    expect(resolved.fields.reduce((w, f) => w + f.length + 2, 0)).toBeGreaterThan(984);
    const store = await tempStore();
    const outcome = await extractUnit({
      tenant: emulator.tenant, entity: resolved, company: '200', division: '', window: { since: null, until: null }, runId: 'r',
      runStartedAt: '2026-11-20T00:00:00.000Z', mi: connectTo(emulator).mi, store, unitPrefix: 'all',
    });
    expect(outcome.status).toBe('complete');
    const staged = new Map((await stagedRecords(store, 'all')).map((r) => [r._record_key, r.record]));
    const truth = emulator.truth('CIDMAS', '200');
    expect(staged.size).toBe(truth.length);
    for (const row of truth) expect(staged.get(JSON.stringify([row.CONO, row.SUNO]))).toEqual(row);
  });

  it('refuses to extract before it is resolved', async () => {
    await expect(
      extractUnit({
        tenant: 'T', entity: everything(), company: '100', division: '', window: { since: null, until: null }, runId: 'r', runStartedAt: 'x',
        mi: connectTo(emulator).mi, store: await tempStore(), unitPrefix: 'u',
      }),
    ).rejects.toThrow(/resolve it against the tenant first/);
  });
});

describe('several tenants', () => {
  it('resolve the same entity each their own way', async () => {
    const other = await startCloudSuiteEmulator({ seed: 42, tenant: 'OTHER_PRD', knobs: { tableFields: { MPHEAD: { missing: ['LNAM'] } } } });
    try {
      const orders = catalog.get('purchase_orders');
      const here = ready(await resolve(orders));
      const there = ready(resolveEntity(orders, await readEntityFields(connectTo(other).mi, orders, '100')));
      expect(here.dropped).toEqual([]);
      expect(there.dropped).toEqual(['LNAM']);
    } finally {
      await other.close();
    }
  });
});
