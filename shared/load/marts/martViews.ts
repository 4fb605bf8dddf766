// The finance marts: views over the synced tables' live rows (`_deleted_at IS NULL`) that answer the questions
// an AP, GL or purchasing analyst asks, so each is one SELECT away. Each is a pure function from the schema and
// the names of the tables it reads to one `CREATE OR REPLACE VIEW` (idempotent); the pipeline creates them after
// the tables are committed (shared/pipeline/refreshMarts.ts). Amounts stay DECIMAL: sums and differences only,
// never a ratio or AVG (those turn into DOUBLE).
import { quote } from '../identifiers.ts';

/** The synced entities the marts read (their current tables). */
export type MartInput = 'ap_ledger' | 'gl_transactions' | 'purchase_order_lines' | 'supplier_invoice_lines';

export interface MartSchema {
  catalog: string;
  schema: string;
}

/** Where each entity's current table is in the schema (its name; by default the entity id). */
export type MartTables = Readonly<Record<MartInput, string>>;

export interface MartDefinition {
  name: string;
  /** The question it answers, for the README, the logs and the view's comment. */
  question: string;
  /** Tables it reads: the mart is skipped while one of them does not exist. */
  reads: readonly MartInput[];
  /** Marts it reads (created before it). */
  after?: readonly string[];
  /** The view's query, given qualified names of its tables and marts. */
  query(name: (input: MartInput) => string, mart: (name: string) => string): string;
}

/** The AP invoice key: M3 links an invoice, its instalments, payments and reversals by payee, supplier, number and year. */
const INVOICE_KEY = ['_tenant', 'cono', 'divi', 'spyn', 'suno', 'sino', 'inyr', 'cucd'];
const GL_DIMENSIONS = ['ait1', 'ait2', 'ait3', 'ait4', 'ait5', 'ait6', 'ait7'];

const live = (table: string, alias = '') => `${table}${alias ? ` AS ${alias}` : ''} WHERE ${alias ? `${alias}.` : ''}_deleted_at IS NULL`;
const on = (columns: readonly string[], left: string, right: string) => columns.map((c) => `${left}.${c} <=> ${right}.${c}`).join(' AND ');

const AP_OPEN_ITEMS: MartDefinition = {
  name: 'ap_open_items',
  question:
    'Which supplier invoices are still open, for how much, since when due, and how many days overdue today? One row per ' +
    'invoice with a non-zero open amount: every AP ledger entry (FPLEDG) of the invoice netted in its currency: invoices and ' +
    'instalments (TRCD 40, negative: owed), reversals (TRCD 40, positive), payments and partial payments (TRCD 50). The due ' +
    'date is that of the earliest instalment the payments have not covered (paid in due-date order).',
  reads: ['ap_ledger'],
  query: (t) => `
WITH entries AS (
  SELECT ${INVOICE_KEY.join(', ')}, trcd, yea4, jrno, jsno, ivdt, dudt, -cuam AS owed
  FROM ${live(t('ap_ledger'))}
),
instalments AS (
  SELECT ${INVOICE_KEY.join(', ')}, dudt,
    SUM(owed) OVER (PARTITION BY ${INVOICE_KEY.join(', ')} ORDER BY dudt, yea4, jrno, jsno ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS owed_through
  FROM entries WHERE trcd = 40 AND owed > 0
),
invoices AS (
  SELECT ${INVOICE_KEY.join(', ')},
    SUM(owed) AS open_amount,
    COALESCE(SUM(CASE WHEN trcd = 40 AND owed > 0 THEN owed END), 0) AS invoiced_amount,
    COALESCE(SUM(CASE WHEN trcd = 50 THEN -owed END), 0) AS paid_amount,
    COUNT(CASE WHEN trcd = 40 AND owed > 0 THEN 1 END) AS instalments,
    MIN(ivdt) AS invoice_date,
    MIN(dudt) AS first_due_date
  FROM entries GROUP BY ${INVOICE_KEY.join(', ')}
),
due AS (
  SELECT ${INVOICE_KEY.map((c) => `i.${c}`).join(', ')}, MIN(s.dudt) AS due_date
  FROM invoices AS i JOIN instalments AS s ON ${on(INVOICE_KEY, 'i', 's')}
  WHERE s.owed_through > i.invoiced_amount - i.open_amount
  GROUP BY ${INVOICE_KEY.map((c) => `i.${c}`).join(', ')}
),
open_items AS (
  SELECT i._tenant AS tenant, i.cono, i.divi, i.spyn, i.suno, i.sino, i.inyr, i.cucd,
    i.invoice_date, COALESCE(d.due_date, i.first_due_date) AS due_date, i.instalments,
    i.invoiced_amount, i.paid_amount, i.open_amount
  FROM invoices AS i LEFT JOIN due AS d ON ${on(INVOICE_KEY, 'i', 'd')}
  WHERE i.open_amount <> 0
)
SELECT *, datediff(current_date(), due_date) AS days_overdue,
  CASE
    WHEN due_date IS NULL OR datediff(current_date(), due_date) <= 0 THEN 'current'
    WHEN datediff(current_date(), due_date) <= 30 THEN '1-30'
    WHEN datediff(current_date(), due_date) <= 60 THEN '31-60'
    WHEN datediff(current_date(), due_date) <= 90 THEN '61-90'
    ELSE '90+'
  END AS aging_bucket
FROM open_items`,
};

const bucketSum = (bucket: string, column: string) => `SUM(CASE WHEN aging_bucket = '${bucket}' THEN open_amount ELSE 0 END) AS ${column}`;

const AP_AGING: MartDefinition = {
  name: 'ap_aging',
  question:
    'How much do we owe each supplier, per company and currency, and how overdue is it? The open items of ap_open_items ' +
    'summed into aging buckets by days overdue today: current (not yet due), 1-30, 31-60, 61-90 and over 90 days.',
  reads: ['ap_ledger'],
  after: ['ap_open_items'],
  query: (_t, mart) => `
SELECT tenant, cono, suno, cucd,
  COUNT(*) AS open_items,
  SUM(open_amount) AS open_amount,
  ${bucketSum('current', 'current_amount')},
  ${bucketSum('1-30', 'overdue_1_30')},
  ${bucketSum('31-60', 'overdue_31_60')},
  ${bucketSum('61-90', 'overdue_61_90')},
  ${bucketSum('90+', 'overdue_over_90')},
  MIN(due_date) AS oldest_due_date
FROM ${mart('ap_open_items')}
GROUP BY tenant, cono, suno, cucd`,
};

const GL_TRIAL_BALANCE: MartDefinition = {
  name: 'gl_trial_balance',
  question:
    'What is the balance of each account (and accounting dimension) per company, division, accounting year and period? ' +
    'GL transactions (FGLEDG) summed in local currency (ACAM) per accounting year (YEA4) and period (the month of the ' +
    'accounting date ACDT), with debits, credits, the period movement and the year-to-date balance. Rows exist for periods ' +
    'with movement; a fiscal year that does not follow the calendar needs its own period mapping.',
  reads: ['gl_transactions'],
  query: (t) => `
WITH periods AS (
  SELECT _tenant AS tenant, cono, divi, yea4, month(acdt) AS period, ${GL_DIMENSIONS.join(', ')},
    SUM(CASE WHEN acam > 0 THEN acam ELSE 0 END) AS debit_amount,
    SUM(CASE WHEN acam < 0 THEN -acam ELSE 0 END) AS credit_amount,
    SUM(acam) AS period_amount,
    COUNT(*) AS lines
  FROM ${live(t('gl_transactions'))}
  GROUP BY _tenant, cono, divi, yea4, month(acdt), ${GL_DIMENSIONS.join(', ')}
)
SELECT *,
  SUM(period_amount) OVER (PARTITION BY tenant, cono, divi, yea4, ${GL_DIMENSIONS.join(', ')} ORDER BY period
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ytd_amount
FROM periods`,
};

const GL_UNBALANCED_VOUCHERS: MartDefinition = {
  name: 'gl_unbalanced_vouchers',
  question:
    'Are there GL vouchers whose lines do not sum to zero? Every M3 voucher balances in local currency (ACAM), so after a ' +
    'complete sync this is empty: a row is a line missing from the warehouse (or a source problem) worth an alarm.',
  reads: ['gl_transactions'],
  query: (t) => `
SELECT _tenant AS tenant, cono, divi, yea4, jrno, vser, vono, MIN(acdt) AS acdt,
  COUNT(*) AS lines, SUM(acam) AS difference
FROM ${live(t('gl_transactions'))}
GROUP BY _tenant, cono, divi, yea4, jrno, vser, vono
HAVING SUM(acam) <> 0`,
};

// The local amount: DECIMAL(20,2) × DECIMAL(12,6) is an exact DECIMAL(33,8) in Databricks (no precision loss,
// so one rounding to cents); a narrower operand lets an engine multiply in 64 bits and overflow on large invoices.
const SUPPLIER_SPEND: MartDefinition = {
  name: 'supplier_spend',
  question:
    'How much did we spend with each supplier per month? Posted invoices in the AP ledger (FPLEDG TRCD 40: invoices, ' +
    'instalments, credit notes and reversals, so a reversed invoice nets to zero) per company, supplier, invoice month ' +
    '(IVDT) and currency: gross, VAT and net in the invoice currency, and gross in the company\'s local currency ' +
    'converted at the entry\'s own rate (ARAT) where it carries one, rounded to cents per entry.',
  reads: ['ap_ledger'],
  query: (t) => `
SELECT _tenant AS tenant, cono, suno, date_format(ivdt, 'yyyy-MM') AS invoice_month, cucd,
  COUNT(DISTINCT concat_ws('|', divi, spyn, sino, CAST(inyr AS STRING))) AS invoices,
  SUM(-cuam) AS gross_amount,
  SUM(-COALESCE(vtam, 0)) AS vat_amount,
  SUM(-cuam + COALESCE(vtam, 0)) AS net_amount,
  SUM(ROUND(-CAST(cuam AS DECIMAL(20,2)) * arat, 2)) AS gross_amount_local
FROM ${live(t('ap_ledger'))} AND trcd = 40
GROUP BY _tenant, cono, suno, date_format(ivdt, 'yyyy-MM'), cucd`,
};

const PO_LINE_KEY = ['_tenant', 'cono', 'puno', 'pnli', 'pnls'];

const PO_INVOICE_MATCH: MartDefinition = {
  name: 'po_invoice_match',
  question:
    'Does what we were invoiced match what we ordered and received (three-way match)? One row per purchase order line ' +
    '(MPLINE: ordered ORQA and LNAM, received RVQA) against the supplier invoice lines that reference it (FAPIBL, RDTP 1: ' +
    'IVQA and NLAM), with the differences and a status: not received, to invoice (received more than invoiced), matched, ' +
    'over-invoiced (invoiced more than received).',
  reads: ['purchase_order_lines', 'supplier_invoice_lines'],
  query: (t) => `
WITH invoiced AS (
  SELECT ${PO_LINE_KEY.join(', ')}, SUM(COALESCE(ivqa, 0)) AS invoiced_qty, SUM(nlam) AS invoiced_amount, COUNT(*) AS invoice_lines
  FROM ${live(t('supplier_invoice_lines'))} AND rdtp = 1 AND puno IS NOT NULL
  GROUP BY ${PO_LINE_KEY.join(', ')}
),
matched AS (
  SELECT l._tenant AS tenant, l.cono, l.divi, l.puno, l.pnli, l.pnls, l.suno, l.itno, l.pust,
    COALESCE(l.orqa, 0) AS ordered_qty, COALESCE(l.rvqa, 0) AS received_qty, COALESCE(i.invoiced_qty, 0) AS invoiced_qty,
    COALESCE(l.lnam, 0) AS ordered_amount, COALESCE(i.invoiced_amount, 0) AS invoiced_amount,
    COALESCE(i.invoice_lines, 0) AS invoice_lines
  FROM ${t('purchase_order_lines')} AS l LEFT JOIN invoiced AS i ON ${on(PO_LINE_KEY, 'l', 'i')}
  WHERE l._deleted_at IS NULL
)
SELECT *,
  received_qty - ordered_qty AS received_minus_ordered_qty,
  invoiced_qty - received_qty AS invoiced_minus_received_qty,
  invoiced_amount - ordered_amount AS invoiced_minus_ordered_amount,
  CASE
    WHEN received_qty = 0 AND invoiced_qty = 0 THEN 'not received'
    WHEN invoiced_qty < received_qty THEN 'to invoice'
    WHEN invoiced_qty = received_qty THEN 'matched'
    ELSE 'over-invoiced'
  END AS match_status
FROM matched`,
};

const SUPPLIER_DELIVERY_PERFORMANCE: MartDefinition = {
  name: 'supplier_delivery_performance',
  question:
    'Do suppliers deliver on time? Received purchase order lines (MPLINE with a receipt date RCDT) per company, supplier ' +
    'and month of receipt: lines on time (received on or before the planned delivery date DWDT) and late, with the days ' +
    'late summed and the worst.',
  reads: ['purchase_order_lines'],
  query: (t) => `
WITH received AS (
  SELECT _tenant AS tenant, cono, suno, rcdt, dwdt, datediff(rcdt, dwdt) AS days_late
  FROM ${live(t('purchase_order_lines'))} AND rcdt IS NOT NULL AND dwdt IS NOT NULL
)
SELECT tenant, cono, suno, date_format(rcdt, 'yyyy-MM') AS receipt_month,
  COUNT(*) AS received_lines,
  COUNT(CASE WHEN days_late <= 0 THEN 1 END) AS on_time_lines,
  COUNT(CASE WHEN days_late > 0 THEN 1 END) AS late_lines,
  SUM(CASE WHEN days_late > 0 THEN days_late ELSE 0 END) AS days_late_total,
  MAX(CASE WHEN days_late > 0 THEN days_late ELSE 0 END) AS max_days_late
FROM received
GROUP BY tenant, cono, suno, date_format(rcdt, 'yyyy-MM')`,
};

/** In creation order: a mart comes after the marts it reads. */
export const MARTS: readonly MartDefinition[] = [
  AP_OPEN_ITEMS,
  AP_AGING,
  GL_TRIAL_BALANCE,
  GL_UNBALANCED_VOUCHERS,
  SUPPLIER_SPEND,
  PO_INVOICE_MATCH,
  SUPPLIER_DELIVERY_PERFORMANCE,
];

/** The mart whose row count the pipeline reports (UnbalancedVouchers) and alarms on. */
export const UNBALANCED_VOUCHERS_MART = GL_UNBALANCED_VOUCHERS.name;

const qualified = (schema: MartSchema, name: string) => [schema.catalog, schema.schema, name].map(quote).join('.');

/** `CREATE OR REPLACE VIEW` for one mart: idempotent, so every run may refresh it. */
export function createMartSql(mart: MartDefinition, schema: MartSchema, tables: MartTables): string {
  const query = mart.query(
    (input) => qualified(schema, tables[input]),
    (name) => qualified(schema, name),
  );
  return `CREATE OR REPLACE VIEW ${qualified(schema, mart.name)} AS${query}`;
}

/** How many rows a mart has (for UnbalancedVouchers). */
export function countMartRowsSql(schema: MartSchema, name: string): string {
  return `SELECT COUNT(*) AS row_count FROM ${qualified(schema, name)}`;
}

/** The tables of a schema, to skip marts whose tables are not there yet. */
export function showTablesSql(schema: MartSchema): string {
  return `SHOW TABLES IN ${quote(schema.catalog)}.${quote(schema.schema)}`;
}
