// The entities the product syncs out of the box (see ../shared/docs/cloudsuite-m3.md §6–7).
// Field lists are the columns a finance team needs; types come from M3 metadata (`describe`).
import { entityDefinitionSchema, type EntityDefinition, type EntityDefinitionInput } from './entityDefinition.ts';

type F = [name: string, type: 'A' | 'N' | 'D', length: number, decimals?: number];
const fields = (list: F[]) => list.map(([name, type, length, decimals = 0]) => ({ name, type, length, decimals }));

const CHANGE_FIELDS: F[] = [
  ['RGDT', 'D', 8],
  ['LMDT', 'D', 8],
  ['CHNO', 'N', 5],
  ['LMTS', 'N', 18],
];
const CHANGE = { date: 'LMDT', counter: 'CHNO', timestamp: 'LMTS' };

const definitions: EntityDefinitionInput[] = [
  {
    id: 'suppliers',
    description: 'Supplier master (CIDMAS) through CRS620MI/LstSuppliers',
    source: { kind: 'mi-list', program: 'CRS620MI', transaction: 'LstSuppliers', companyInput: 'CONO', startKeyInputs: { SUNO: 'FRSU' } },
    key: ['CONO', 'SUNO'],
    fields: fields([
      ['CONO', 'N', 3], ['SUNO', 'A', 10], ['SUNM', 'A', 36], ['SUTY', 'N', 1], ['STAT', 'A', 2], ['CUCD', 'A', 3],
      ['TEPY', 'A', 3], ['PYME', 'A', 3], ['CSCD', 'A', 3], ['VRNO', 'A', 16], ['PHNO', 'A', 16], ['SUAL', 'A', 10],
      ['LNCD', 'A', 2],
    ]),
    strategy: 'snapshot',
    scope: 'company',
  },
  {
    id: 'gl_accounts',
    description: 'Chart of accounts (FCHACC, accounting dimension 1) through CRS630MI/LstAccountID',
    source: {
      kind: 'mi-list', program: 'CRS630MI', transaction: 'LstAccountID', inputs: { AITP: '1' },
      companyInput: 'CONO', divisionInput: 'DIVI', startKeyInputs: { AITM: 'AITM' },
    },
    key: ['CONO', 'DIVI', 'AITP', 'AITM'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['AITP', 'N', 1], ['AITM', 'A', 8], ['TX40', 'A', 40], ['TX15', 'A', 15],
      ['STAT', 'A', 2], ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'snapshot',
    scope: 'division',
  },
  {
    id: 'purchase_agreements',
    description: 'Purchase agreement heads through PPS100MI/LstAgrHead',
    source: { kind: 'mi-list', program: 'PPS100MI', transaction: 'LstAgrHead', companyInput: 'CONO', startKeyInputs: { SUNO: 'SUNO', AGNB: 'AGNB' } },
    key: ['CONO', 'SUNO', 'AGNB'],
    fields: fields([
      ['CONO', 'N', 3], ['SUNO', 'A', 10], ['AGNB', 'A', 10], ['AGTP', 'A', 3], ['AGST', 'A', 2], ['FVDT', 'D', 8],
      ['UVDT', 'D', 8], ['CUCD', 'A', 3], ['TX40', 'A', 40],
    ]),
    strategy: 'snapshot',
    scope: 'company',
  },
  {
    id: 'purchase_orders',
    description: 'Purchase order heads (MPHEAD)',
    source: { kind: 'exportmi', table: 'MPHEAD', prefix: 'IA' },
    key: ['CONO', 'PUNO'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['PUNO', 'A', 10], ['SUNO', 'A', 10], ['PUDT', 'D', 8], ['DWDT', 'D', 8],
      ['PUSL', 'A', 2], ['PUST', 'A', 2], ['CUCD', 'A', 3], ['FACI', 'A', 3], ['WHLO', 'A', 3], ['BUYE', 'A', 10],
      ['TEPY', 'A', 3], ['ARAT', 'N', 12, 6], ['LNAM', 'N', 17, 2], ['YRE1', 'A', 30], ['OURR', 'A', 30], ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'purchase_order_lines',
    description: 'Purchase order lines (MPLINE)',
    source: { kind: 'exportmi', table: 'MPLINE', prefix: 'IB' },
    key: ['CONO', 'PUNO', 'PNLI', 'PNLS'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['PUNO', 'A', 10], ['PNLI', 'N', 5], ['PNLS', 'N', 3], ['ITNO', 'A', 15],
      ['PITD', 'A', 60], ['ORQA', 'N', 15, 6], ['RVQA', 'N', 15, 6], ['PUPR', 'N', 17, 6], ['PUUN', 'A', 3],
      ['LNAM', 'N', 17, 2], ['PUSL', 'A', 2], ['PUST', 'A', 2], ['DWDT', 'D', 8], ['WHLO', 'A', 3], ['SUNO', 'A', 10],
      ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'supplier_invoices',
    description: 'Supplier invoice batch heads (FAPIBH, APS450MI batch)',
    source: { kind: 'exportmi', table: 'FAPIBH', prefix: 'E5' },
    key: ['CONO', 'DIVI', 'INBN'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['INBN', 'N', 10], ['SUNO', 'A', 10], ['SINO', 'A', 24], ['IVDT', 'D', 8],
      ['DUDT', 'D', 8], ['CUCD', 'A', 3], ['CUAM', 'N', 17, 2], ['VTAM', 'N', 15, 2], ['ARAT', 'N', 12, 6],
      ['SUPA', 'A', 2], ['TEPY', 'A', 3], ['PUNO', 'A', 10], ['TX40', 'A', 40], ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'supplier_invoice_lines',
    description: 'Supplier invoice batch lines (FAPIBL)',
    source: { kind: 'exportmi', table: 'FAPIBL', prefix: 'E6' },
    key: ['CONO', 'DIVI', 'INBN', 'TRNO'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['INBN', 'N', 10], ['TRNO', 'N', 5], ['RDTP', 'N', 1], ['PUNO', 'A', 10],
      ['PNLI', 'N', 5], ['PNLS', 'N', 3], ['NLAM', 'N', 17, 2], ['IVQA', 'N', 15, 6], ['AIT1', 'A', 8], ['VTCD', 'N', 2],
      ['TX40', 'A', 40], ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'ap_ledger',
    description: 'Accounts payable ledger (FPLEDG): posted invoices (TRCD 40) and payments (TRCD 50)',
    source: { kind: 'exportmi', table: 'FPLEDG', prefix: 'EP' },
    key: ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['YEA4', 'N', 4], ['JRNO', 'N', 7], ['JSNO', 'N', 7], ['SPYN', 'A', 10],
      ['SUNO', 'A', 10], ['SINO', 'A', 24], ['INYR', 'N', 4], ['TRCD', 'N', 2], ['IVDT', 'D', 8], ['DUDT', 'D', 8],
      ['ACDT', 'D', 8], ['CUCD', 'A', 3], ['CUAM', 'N', 17, 2], ['ARAT', 'N', 12, 6], ['VSER', 'A', 3], ['VONO', 'N', 8],
      ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
  {
    id: 'gl_transactions',
    description: 'General ledger transactions (FGLEDG), for reconciling balances',
    source: { kind: 'exportmi', table: 'FGLEDG', prefix: 'EG' },
    key: ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'],
    fields: fields([
      ['CONO', 'N', 3], ['DIVI', 'A', 3], ['YEA4', 'N', 4], ['JRNO', 'N', 7], ['JSNO', 'N', 7], ['ACDT', 'D', 8],
      ['AIT1', 'A', 8], ['AIT2', 'A', 8], ['AIT3', 'A', 8], ['AIT4', 'A', 8], ['ACAM', 'N', 17, 2], ['CUAM', 'N', 17, 2],
      ['CUCD', 'A', 3], ['VTXT', 'A', 40], ['VSER', 'A', 3], ['VONO', 'N', 8], ['TRCD', 'N', 2], ...CHANGE_FIELDS,
    ]),
    changeFields: CHANGE,
    strategy: 'incremental',
  },
];

export const DEFAULT_ENTITY_IDS = definitions.map((d) => d.id);

export const defaultCatalog: ReadonlyMap<string, EntityDefinition> = new Map(
  definitions.map((d) => [d.id, entityDefinitionSchema.parse(d)]),
);
