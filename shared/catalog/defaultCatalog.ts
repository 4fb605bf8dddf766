// The entities the product syncs out of the box: the M3 programs and tables behind them are listed in the
// README ("Entities"); field names and types follow M3's own metadata (`cloudsuite-sync describe`).
// Field lists are the columns a finance team needs; types come from M3 metadata (`describe`).
import { entityDefinitionSchema, type EntityDefinition, type EntityDefinitionInput } from './entityDefinition.ts';
import { withFieldText, type FieldTextOverrides } from './fieldTexts.ts';

/**
 * Fields as M3 metadata lists them: "NAME:<type><length>[.<decimals>]", e.g. "CUAM:N17.2", each with its
 * business name and description (fieldTexts.ts), overridden where the entity gives a field a narrower meaning.
 */
function fields(spec: string, overrides: FieldTextOverrides = {}) {
  return spec
    .trim()
    .split(/\s+/)
    .map((item) => {
      const m = /^([A-Z0-9]{4}):([AND])(\d+)(?:\.(\d+))?$/.exec(item);
      if (!m) throw new Error(`bad field spec "${item}"`);
      return withFieldText({ name: m[1]!, type: m[2] as 'A' | 'N' | 'D', length: Number(m[3]), decimals: Number(m[4] ?? 0) }, overrides);
    });
}

// CHNO is N3 in M3 (it wraps after 999): see changeStamp in shared/staging/stagedRecord.ts.
const AUDIT = 'RGDT:D8 RGTM:N6 LMDT:D8 CHNO:N3 CHID:A10 LMTS:N18';
const CHANGE = { date: 'LMDT', counter: 'CHNO', timestamp: 'LMTS' };
// Backfills and full reads of the big tables run as parallel sub-units (README "Backfills"): the ledgers by
// accounting year (their key has YEA4, and years are about equal in size), the invoice batches by division (their
// key has DIVI; the entities are company-scoped). Purchase orders key on PUNO alone and stay one unit.
const BY_YEAR = { field: 'YEA4', by: 'year', years: 6 } as const;
const BY_DIVISION = { field: 'DIVI', by: 'division' } as const;

const definitions: EntityDefinitionInput[] = [
  {
    id: 'suppliers',
    description: 'Supplier master (CIDMAS) through CRS620MI/LstSuppliers',
    source: { kind: 'mi-list', program: 'CRS620MI', transaction: 'LstSuppliers', companyInput: 'CONO', startKeyInputs: { SUNO: 'FRSU' } },
    key: ['CONO', 'SUNO'],
    fields: fields(`CONO:N3 SUNO:A10 SUNM:A36 LNCD:A2 PHNO:A16 CSCD:A3 ECAR:A2 CUCD:A3 CRTP:N2 TEPY:A3 PYME:A3 VTCD:N2
      TAXC:A3 BUYE:A10 RESP:A10 SUGR:A10 SUST:N1 TINO:A15 COBI:A10 SUCL:A3 ORTY:A3 TEDL:A3 MODL:A3`),
    strategy: 'snapshot',
    scope: 'company',
  },
  {
    id: 'gl_accounts',
    description: 'Chart of accounts (FCHACC, accounting dimension 1) through CRS630MI/LstAccountID',
    source: {
      kind: 'mi-list', program: 'CRS630MI', transaction: 'LstAccountID', inputs: { AITP: '1' },
      divisionInput: 'DIVI', startKeyInputs: { AITM: 'AITM' },
    },
    key: ['CONO', 'DIVI', 'AITP', 'AITM'],
    fields: fields(`CONO:N3 DIVI:A3 AITP:N1 AITM:A10 AICL:A8 TX40:A40 TX15:A15 VFDT:D8 VTDT:D8 ACGR:A10 RESP:A10 VTCD:N2
      CUCD:A3 ${AUDIT}`, {
      AITM: { businessName: 'account', description: 'Accounting identity: the account number (accounting dimension 1)' },
      TX40: { businessName: 'account_name', description: 'Account name' },
      TX15: { businessName: 'account_short_name', description: 'Account short name' },
    }),
    changeFields: CHANGE,
    strategy: 'snapshot',
    scope: 'division',
  },
  {
    id: 'purchase_agreements',
    description: 'Purchase agreement heads (MPAGRH) through PPS100MI/LstAgrHead (no start key: one call, capped)',
    source: { kind: 'mi-list', program: 'PPS100MI', transaction: 'LstAgrHead', companyInput: 'CONO', fromUnit: ['CONO'] },
    key: ['CONO', 'SUNO', 'AGNB'],
    fields: fields('CONO:N3 SUNO:A10 AGNB:A7 AGTP:A3 FVDT:D8 UVDT:D8 PAST:A2 TX30:A30 VAGN:A30 FACI:A3 ACGR:A10'),
    strategy: 'snapshot',
    scope: 'company',
  },
  {
    id: 'purchase_orders',
    description: 'Purchase order heads (MPHEAD)',
    source: { kind: 'exportmi', table: 'MPHEAD', prefix: 'IA' },
    key: ['CONO', 'PUNO'],
    fields: fields(`CONO:N3 DIVI:A3 PUNO:A10 SUNO:A10 PUDT:D8 DWDT:D8 LEDT:D8 BUYE:A10 RESP:A10 CUCD:A3 YRE1:A36 REMK:A30
      COAM:N17.2 FACI:A3 WHLO:A3 ORTY:A3 TEPY:A3 OURR:A10 AGNT:A10 NTAM:N17.2 TOQT:N17.6 PROJ:A7 PUSL:A2 PUST:A2
      ARAT:N12.6 LNAM:N17.2 ${AUDIT}`, { LNAM: { businessName: 'line_amount_total', description: 'Total of the line amounts in order currency' } }),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'purchase_order_lines',
    description: 'Purchase order lines (MPLINE)',
    source: { kind: 'exportmi', table: 'MPLINE', prefix: 'IB' },
    key: ['CONO', 'PUNO', 'PNLI', 'PNLS'],
    fields: fields(`CONO:N3 DIVI:A3 PUNO:A10 PNLI:N5 PNLS:N3 ITNO:A15 SITE:A30 CODT:D8 PUUN:A3 ITDS:A30 FACI:A3 WHLO:A3
      PUST:A2 PUSL:A2 SUNO:A10 SUFI:A20 PITD:A30 PITT:A60 SORN:A20 PUPR:N17.6 PPUN:A3 PUCD:N5 LNAM:N17.2 DWDT:D8
      ORQA:N15.6 RVQA:N15.6 RCDT:D8 CAQA:N15.6 RJQA:N15.6 IVQA:N15.6 BUYE:A10 VTCD:N2 PROD:A10 TEL1:A36 CUPR:N19.6
      SAAM:N17.2 ${AUDIT}`, { IVQA: { description: 'Invoiced quantity in the alternate unit of measure' } }),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'supplier_invoices',
    description: 'Supplier invoice batch heads (FAPIBH, APS450MI batch)',
    source: { kind: 'exportmi', table: 'FAPIBH', prefix: 'E5' },
    key: ['CONO', 'DIVI', 'INBN'],
    fields: fields(`CONO:N3 DIVI:A3 INBN:N10 IBTP:A2 SUNO:A10 SPYN:A10 SINO:A24 IVDT:D8 DUDT:D8 ACDT:D8 CUCD:A3 CRTP:N2
      ARAT:N12.6 CUAM:N17.2 VTAM:N15.2 TEPY:A3 PYME:A3 SUPA:A2 PUNO:A10 APCD:A10 TX40:A40 ${AUDIT}`),
    changeFields: CHANGE,
    strategy: 'incremental',
    split: BY_DIVISION,
  },
  {
    id: 'supplier_invoice_lines',
    description: 'Supplier invoice batch lines (FAPIBL)',
    source: { kind: 'exportmi', table: 'FAPIBL', prefix: 'E6' },
    key: ['CONO', 'DIVI', 'INBN', 'TRNO'],
    fields: fields(`CONO:N3 DIVI:A3 INBN:N10 TRNO:N5 RDTP:N1 PUNO:A10 PNLI:N5 PNLS:N3 ITNO:A15 NLAM:N17.2 IVQA:N15.6
      PUPR:N17.6 AIT1:A8 AIT2:A8 VTCD:N2 TX40:A40 ${AUDIT}`, { TX40: { businessName: 'line_text', description: 'Line text' } }),
    changeFields: CHANGE,
    strategy: 'incremental',
    split: BY_DIVISION,
  },
  {
    id: 'ap_ledger',
    description: 'Accounts payable ledger (FPLEDG): posted invoices (TRCD 40) and payments (TRCD 50)',
    source: { kind: 'exportmi', table: 'FPLEDG', prefix: 'EP' },
    key: ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'],
    fields: fields(`CONO:N3 DIVI:A3 YEA4:N4 JRNO:N7 JSNO:N7 TRCD:N2 SPYN:A10 SUNO:A10 SINO:A24 INYR:N4 VSER:A3 VONO:N8
      IVTP:A2 APCD:A10 CUCD:A3 CRTP:N2 ARAT:N12.6 CUAM:N17.2 VTAM:N17.2 IVDT:D8 DUDT:D8 ACDT:D8 TEPY:A3 PYME:A3
      PYST:N1 RECO:N1 REDE:D8 ${AUDIT}`, {
      TRCD: { description: 'Transaction code', codes: { '40': 'supplier invoice', '50': 'payment' } },
    }),
    changeFields: CHANGE,
    // A ledger's period is its accounting period: the month of the accounting date.
    controlPeriodField: 'ACDT',
    strategy: 'incremental',
    split: BY_YEAR,
  },
  {
    id: 'gl_transactions',
    description: 'General ledger transactions (FGLEDG), for reconciling balances',
    source: { kind: 'exportmi', table: 'FGLEDG', prefix: 'EG' },
    key: ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'],
    fields: fields(`CONO:N3 DIVI:A3 YEA4:N4 JRNO:N7 JSNO:N7 TRCD:N2 ACDT:D8 AIT1:A8 AIT2:A8 AIT3:A8 AIT4:A8 AIT5:A8 AIT6:A8
      AIT7:A8 ACAM:N17.2 CUAM:N17.2 CUCD:A3 ARAT:N12.6 VTCD:N2 VTXT:A40 VSER:A3 VONO:N8 FEID:A4 ${AUDIT}`, {
      TRCD: { description: 'Transaction code (the kind of general ledger transaction)' },
    }),
    changeFields: CHANGE,
    controlPeriodField: 'ACDT',
    strategy: 'incremental',
    split: BY_YEAR,
  },
];

export const DEFAULT_ENTITY_IDS = definitions.map((d) => d.id);

export const defaultCatalog: ReadonlyMap<string, EntityDefinition> = new Map(
  definitions.map((d) => [d.id, entityDefinitionSchema.parse(d)]),
);
