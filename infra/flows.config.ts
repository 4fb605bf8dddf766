// THE file an operator edits: which CloudSuite entities go to which Databricks tables, for which companies,
// when. `cdk synth`/`cdk deploy` validate it (errors name the flow and field) and the local sync reads it too.
// Schedules are EventBridge cron bodies ("min hour day-of-month month day-of-week year") in an IANA zone;
// flows with the same cron and zone run in one execution. Field reference: shared/config/flowsConfig.ts.
import type { FlowsConfigInput } from '../shared/config/flowsConfig.ts';

const companies = ['100', '200', '300'];
const nightly = { cron: '0 2 * * ? *', timeZone: 'Europe/Stockholm' };
// The ledgers are the largest reads: start them half an hour later so the morning's first run is shorter.
const nightlyLedgers = { cron: '30 2 * * ? *', timeZone: 'Europe/Stockholm' };

const flowsConfig: FlowsConfigInput = {
  tenants: {
    // The tenant id is the .ionapi file's "ti"; the bundled emulator's tenant is ACME_PRD.
    ACME_PRD: { secretName: 'cloudsuite-sync/tenants/ACME_PRD', timeZone: 'Europe/Stockholm' },
  },
  warehouse: { secretName: 'cloudsuite-sync/databricks', catalog: 'main', schema: 'cloudsuite', loadMode: 'merge' },
  maxConcurrency: 10,
  flows: [
    { id: 'suppliers', entity: 'suppliers', tenant: 'ACME_PRD', companies, schedule: nightly },
    { id: 'gl-accounts', entity: 'gl_accounts', tenant: 'ACME_PRD', companies, divisions: 'all', schedule: nightly },
    { id: 'purchase-agreements', entity: 'purchase_agreements', tenant: 'ACME_PRD', companies, schedule: nightly },
    { id: 'purchase-orders', entity: 'purchase_orders', tenant: 'ACME_PRD', companies, schedule: nightly, overlapDays: 2 },
    { id: 'purchase-order-lines', entity: 'purchase_order_lines', tenant: 'ACME_PRD', companies, schedule: nightly, overlapDays: 2 },
    { id: 'supplier-invoices', entity: 'supplier_invoices', tenant: 'ACME_PRD', companies, schedule: nightly, overlapDays: 2 },
    { id: 'supplier-invoice-lines', entity: 'supplier_invoice_lines', tenant: 'ACME_PRD', companies, schedule: nightly, overlapDays: 2 },
    { id: 'ap-ledger', entity: 'ap_ledger', tenant: 'ACME_PRD', companies, schedule: nightlyLedgers, overlapDays: 2 },
    { id: 'gl-transactions', entity: 'gl_transactions', tenant: 'ACME_PRD', companies, schedule: nightlyLedgers, overlapDays: 2 },
  ],
  extraEntities: [],
  runRetentionDays: 35,
  stagingRetentionDays: 14,
};

export default flowsConfig;
