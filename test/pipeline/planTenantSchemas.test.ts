// Plan resolves entities per tenant: one metadata read per tenant and table per run (two entities over one
// table share it), each tenant with its own answer, against two CloudSuite emulators that differ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { validateFlowsConfig, type FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { resolveTenantSchemas } from '#shared/pipeline/planTenantSchemas.ts';
import { Deadline } from '#shared/runtime/deadline.ts';
import { capturingLog, connectTo } from '../support/cloudSuite.ts';

let acme: CloudSuiteEmulator;
let other: CloudSuiteEmulator;
const reads: string[] = [];

beforeAll(async () => {
  acme = await startCloudSuiteEmulator({ seed: 51, knobs: { tableFields: { MPHEAD: { missing: ['REMK'] } } } });
  other = await startCloudSuiteEmulator({ seed: 52, tenant: 'OTHER_PRD', knobs: { missingTables: ['FPLEDG'] } });
  for (const emulator of [acme, other]) {
    emulator.onBeforeMiCall = ({ program, transaction, query }) => {
      if (transaction === 'LstFields' || program === 'MRS001MI') reads.push(`${emulator.tenant} ${query.FILE ?? `${query.MINM}/${query.TRNM}`}`);
    };
  }
});
afterAll(async () => {
  await acme.close();
  await other.close();
});

const schedule = { cron: '0 2 * * ? *', timeZone: 'UTC' };
const config: FlowsConfigInput = {
  tenants: { ACME_PRD: { secretName: 'acme', timeZone: 'UTC' }, OTHER_PRD: { secretName: 'other', timeZone: 'UTC', callsPerSecond: 10 } },
  warehouse: { secretName: 'wh', catalog: 'main', schema: 'cloudsuite' },
  extraEntities: [
    {
      id: 'order_heads_slim', source: { kind: 'exportmi', table: 'MPHEAD', prefix: 'IA' }, key: ['CONO', 'PUNO'],
      fields: [{ name: 'CONO', type: 'N', length: 3 }, { name: 'PUNO', type: 'A', length: 10 }, { name: 'REMK', type: 'A', length: 30 }], strategy: 'snapshot',
    },
  ],
  flows: [
    { id: 'acme-orders', entity: 'purchase_orders', tenant: 'ACME_PRD', companies: ['100', '200'], schedule },
    { id: 'acme-slim', entity: 'order_heads_slim', tenant: 'ACME_PRD', companies: ['100'], schedule },
    { id: 'acme-ledger', entity: 'ap_ledger', tenant: 'ACME_PRD', companies: ['100'], schedule },
    { id: 'other-orders', entity: 'purchase_orders', tenant: 'OTHER_PRD', companies: ['100'], schedule, target: { table: 'other_purchase_orders' } },
    { id: 'other-ledger', entity: 'ap_ledger', tenant: 'OTHER_PRD', companies: ['100'], schedule, target: { table: 'other_ap_ledger' } },
  ],
};

describe('resolving the plan\'s entities per tenant', () => {
  it('reads each tenant\'s table once and keeps each tenant\'s own resolution', async () => {
    const { config: parsed, catalog } = validateFlowsConfig(config);
    const byTenant = { acme: acme, other: other } as Record<string, CloudSuiteEmulator>;
    const schemas = await resolveTenantSchemas(parsed.flows, parsed, catalog, {
      connectTenant: async (secretName) => connectTo(byTenant[secretName]!).mi,
      log: capturingLog(),
    }, Deadline.none());

    expect(reads.sort()).toEqual(['ACME_PRD FPLEDG', 'ACME_PRD MPHEAD', 'OTHER_PRD FPLEDG', 'OTHER_PRD MPHEAD']);
    expect(schemas.ACME_PRD!.purchase_orders!.warnings).toEqual(['purchase_orders: 1 configured field not on this tenant: REMK']);
    expect(schemas.ACME_PRD!.order_heads_slim!.entity!.fields.map((f) => f.name)).toEqual(['CONO', 'PUNO']);
    expect(schemas.ACME_PRD!.ap_ledger!.entity).toBeDefined();
    expect(schemas.OTHER_PRD!.purchase_orders!).toMatchObject({ warnings: [] });
    expect(schemas.OTHER_PRD!.purchase_orders!.entity!.fields.map((f) => f.name)).toContain('REMK');
    expect(schemas.OTHER_PRD!.ap_ledger!.entity).toBeUndefined();
    expect(schemas.OTHER_PRD!.ap_ledger!.problem).toMatch(/^ap_ledger: table FPLEDG does not exist on this tenant/);
  });

  it('checks an entity that several flows read in the companies of all of them', async () => {
    // The gateway caps every answer: the supplier field list is cut, and only a supplier record can tell. The first
    // flow's company has no supplier left; a check limited to it would let the cut list stand and narrow suppliers.
    const capped = await startCloudSuiteEmulator({ seed: 53 });
    try {
      capped.mutate({ table: 'CIDMAS', company: '200', deletes: capped.truth('CIDMAS', '200').length });
      expect(capped.truth('CIDMAS', '200')).toHaveLength(0);
      capped.knobs.maxrecsCap = 4;
      const { config: parsed, catalog } = validateFlowsConfig({
        ...config,
        tenants: { ACME_PRD: { secretName: 'acme', timeZone: 'UTC' } },
        extraEntities: [],
        flows: [
          { id: 'suppliers-200', entity: 'suppliers', tenant: 'ACME_PRD', companies: ['200'], schedule },
          { id: 'suppliers-100', entity: 'suppliers', tenant: 'ACME_PRD', companies: ['100'], schedule, target: { table: 'suppliers_100' } },
        ],
      });
      const schemas = await resolveTenantSchemas(parsed.flows, parsed, catalog, { connectTenant: async () => connectTo(capped).mi, log: capturingLog() }, Deadline.none());
      expect(schemas.ACME_PRD!.suppliers!.entity).toBeUndefined();
      expect(schemas.ACME_PRD!.suppliers!.problem).toMatch(/^suppliers: the field list of .* cannot be trusted this time/);
    } finally {
      await capped.close();
    }
  });
});
