// A field list cut short is caught before it narrows or refuses an entity: a gateway capping the records of
// every answer (the emulator's maxrecsCap) cuts EXPORTMI/LstFields and MRS001MI/LstAdtFieldInf like any list.
// The data call is asked about the configured fields the list leaves out; a tenant that really lacks a field
// keeps the answer it had (the field dropped), at the cost of one Select (or one per field when several).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { entityDefinitionSchema } from '#shared/catalog/entityDefinition.ts';
import { checkedEntityFields, readCheckedEntityFields } from '#shared/extract/checkedTenantFields.ts';
import { resolveEntity } from '#shared/extract/resolveEntity.ts';
import { readEntityFields } from '#shared/extract/tenantFields.ts';
import { connectTo } from '../support/cloudSuite.ts';

const catalog = EntityCatalog.withDefaults();
let emulator: CloudSuiteEmulator;
/** The data calls the check made (metadata reads left out). */
let probes: string[] = [];

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 43 });
  emulator.onBeforeMiCall = ({ program, transaction, query }) => {
    if (program === 'EXPORTMI' && transaction === 'Select') probes.push(query.QERY ?? '');
    else if (program !== 'MRS001MI' && transaction !== 'LstFields') probes.push(`${program}/${transaction}`);
  };
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.knobs = { ...DEFAULT_KNOBS };
  probes = [];
});

const fieldsOf = (entityId: string) => readCheckedEntityFields(connectTo(emulator).mi, catalog.get(entityId), '100');

describe('a field list cut short by a cap on every answer', () => {
  it.each([
    ['suppliers', 'CRS620MI/LstSuppliers', /a record of CRS620MI\/LstSuppliers has them/],
    ['gl_accounts', 'CRS630MI/LstAccountID', /a record of CRS630MI\/LstAccountID has them/],
    ['ap_ledger', 'EXPORTMI/Select', /a Select naming them answered OK/],
    ['purchase_order_lines', 'EXPORTMI/Select', /a Select naming them answered OK/],
  ])('%s: answers "incomplete" naming the fields the data call has, and the entity is refused for this run, not narrowed', async (entityId, _call, how) => {
    emulator.knobs.maxrecsCap = 4;
    const fields = await fieldsOf(entityId);
    expect(fields.kind).toBe('incomplete');
    if (fields.kind !== 'incomplete') return;
    expect(fields.listed).toBe(4);
    const configured = catalog.get(entityId).fields.map((f) => f.name);
    expect(fields.unlisted.length).toBeGreaterThan(0);
    expect(configured).toEqual(expect.arrayContaining(fields.unlisted));
    expect(fields.message).toMatch(how);
    expect(fields.message).toMatch(/cut short, most likely by a gateway or API policy limiting the records of each answer/);
    // One data call, with at most one record back (a division-scoped list: the divisions first).
    expect(probes.filter((p) => p !== 'MNS100MI/LstDivisions')).toHaveLength(1);

    const resolution = resolveEntity(catalog.get(entityId), fields);
    expect(resolution.status).toBe('unusable');
    expect(resolution.status === 'unusable' && resolution.problem).toMatch(
      new RegExp(`^${entityId}: the field list of .* cannot be trusted this time .*Nothing was read and nothing narrowed; a rerun of this execution or the next run reads the fields again`),
    );
  });

  it('makes no data call when the list has every configured field', async () => {
    for (const entityId of ['suppliers', 'gl_accounts', 'purchase_orders', 'ap_ledger']) {
      expect((await fieldsOf(entityId)).kind).toBe('found');
    }
    expect(probes).toEqual([]);
  });

  it('keeps a field the tenant really lacks dropped, after one Select naming it', async () => {
    emulator.knobs.tableFields = { FPLEDG: { missing: ['REDE'] } };
    const fields = await fieldsOf('ap_ledger');
    expect(fields.kind).toBe('found');
    expect(probes).toEqual(['EPREDE from FPLEDG']);
    const resolution = resolveEntity(catalog.get('ap_ledger'), fields);
    expect(resolution.status === 'ready' && resolution.dropped).toEqual(['REDE']);
  });

  it('asks field by field when several are left out, and tells a cut list from fields the tenant lacks', async () => {
    emulator.knobs.tableFields = { MPHEAD: { missing: ['REMK', 'PUSL'] } };
    expect((await fieldsOf('purchase_orders')).kind).toBe('found');
    expect(probes).toEqual(['IAREMK, IAPUSL from MPHEAD', 'IAREMK from MPHEAD', 'IAPUSL from MPHEAD']);

    // The same tenant behind a capping gateway: REMK and PUSL are still absent, the rest is only unlisted.
    probes = [];
    emulator.knobs.maxrecsCap = 6;
    const cut = await fieldsOf('purchase_orders');
    expect(cut.kind).toBe('incomplete');
    if (cut.kind !== 'incomplete') return;
    expect(cut.unlisted).not.toContain('REMK');
    expect(cut.unlisted).not.toContain('PUSL');
    expect(cut.unlisted.length).toBeGreaterThan(0);
    expect(probes[0]).toMatch(/^IA\w{4}(, IA\w{4})* from MPHEAD$/);
  });

  it('keeps a list transaction\'s field the tenant lacks dropped, from a record without it', async () => {
    emulator.knobs.tableFields = { CIDMAS: { missing: ['PHNO'] } };
    const fields = await fieldsOf('suppliers');
    expect(fields.kind).toBe('found');
    expect(probes).toEqual(['CRS620MI/LstSuppliers']);
    expect(resolveEntity(catalog.get('suppliers'), fields)).toMatchObject({ status: 'ready', dropped: ['PHNO'] });
  });

  it('asks a list transaction in the next of the flow\'s companies when one cannot show a record', async () => {
    emulator.knobs.maxrecsCap = 4;
    const mi = connectTo(emulator).mi;
    const suppliers = catalog.get('suppliers');
    const listed = await readEntityFields(mi, suppliers, '100');
    // Company 999 is refused (not this tenant's): on its own the check cannot tell, and the cut list would stand.
    expect((await checkedEntityFields(mi, suppliers, listed, ['999'])).kind).toBe('found');
    expect((await checkedEntityFields(mi, suppliers, listed, ['999', '100'])).kind).toBe('incomplete');
  });

  it('checks a `fields: "all"` table against the header row of a one-row Select', async () => {
    const entity = entityDefinitionSchema.parse({
      id: 'suppliers_all', source: { kind: 'exportmi', table: 'CIDMAS', prefix: 'ID' }, key: ['CONO', 'SUNO'], fields: 'all', strategy: 'snapshot',
    });
    const whole = await readCheckedEntityFields(connectTo(emulator).mi, entity, '100');
    expect(whole.kind).toBe('found');
    expect(probes).toEqual(['* from CIDMAS']);

    emulator.knobs.maxrecsCap = 3;
    const cut = await readCheckedEntityFields(connectTo(emulator).mi, entity, '100');
    expect(cut.kind).toBe('incomplete');
    expect(cut.kind === 'incomplete' && cut.unlisted.length).toBeGreaterThan(50);
  });
});
