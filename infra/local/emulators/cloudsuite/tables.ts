// Metadata of the emulated M3 tables: prefix, primary key and typed fields. It is the one source of
// truth for storage, MI outputs (programs pick their fields from here), EXPORTMI and LstFields.
// Field names, types and lengths follow M3 metadata (Infor's generated API catalogue) where known.
import type { TableInfo } from './types.ts';
import type { FieldType } from './values.ts';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Alpha: characters. Numeric: total digits including decimals. Date: 8. */
  readonly length: number;
  readonly decimals: number;
  readonly description: string;
}

export interface TableDef {
  readonly name: string;
  readonly prefix: string;
  readonly description: string;
  /** Primary key, CONO first. */
  readonly key: readonly string[];
  readonly fields: readonly FieldDef[];
  readonly field: ReadonlyMap<string, FieldDef>;
  /** Whether the table carries the standard change columns (RGDT, RGTM, LMDT, CHNO, CHID, LMTS). */
  readonly audited: boolean;
}

/**
 * Parses field lines "NAME TYPE LENGTH[.DECIMALS] Description", e.g. "ARAT N12.6 Exchange rate".
 * A compact notation keeps the wide tables readable next to the catalogue they come from.
 */
export function parseFields(spec: string): FieldDef[] {
  return spec
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^([A-Z0-9]{4}) ([AND])(\d+)(?:\.(\d+))? (.+)$/.exec(line);
      if (!match) throw new Error(`bad field line: ${line}`);
      return {
        name: match[1] as string,
        type: match[2] as FieldType,
        length: Number(match[3]),
        decimals: Number(match[4] ?? 0),
        description: match[5] as string,
      };
    });
}

/** The standard change columns. CHNO is N3 as in M3 metadata (CRS630MI, XtendM3): it wraps after 999. */
const AUDIT_FIELDS = parseFields(`
  RGDT D8 Entry date
  RGTM N6 Entry time
  LMDT D8 Change date
  CHNO N3 Change number
  CHID A10 Changed by
  LMTS N18 Timestamp
`);

function table(name: string, prefix: string, description: string, key: string[], spec: string, audited = true): TableDef {
  const fields = [...parseFields(spec), ...(audited ? AUDIT_FIELDS : [])];
  const field = new Map(fields.map((f) => [f.name, f]));
  if (field.size !== fields.length) throw new Error(`${name}: duplicate field`);
  for (const k of key) if (!field.has(k)) throw new Error(`${name}: key field ${k} missing`);
  return { name, prefix, description, key, fields, field, audited };
}

const CIDMAS = table('CIDMAS', 'ID', 'Supplier master', ['CONO', 'SUNO'], `
  CONO N3 Company
  SUNO A10 Supplier number
  SUNM A36 Supplier name
  SUTY N1 Supplier type
  STAT A2 Status
  ALSU A10 Search key
  SUAL A10 Supplier alternate identity
  CSCD A3 Country
  ECAR A2 Area/State
  LNCD A2 Language
  PHNO A16 Telephone number 1
  PHN2 A16 Telephone number 2
  TFNO A16 Facsimile transmission number
  TLNO A16 Telex number
  CORG A11 Organization number 1
  COR2 A11 Organization number 2
  VRNO A16 VAT registration number
  SUA1 A36 Address line 1
  SUA2 A36 Address line 2
  SUA3 A36 Address line 3
  SUA4 A36 Address line 4
  TOWN A20 City
  PONO A10 Postal code
  EMAL A60 Electronic mail address
  SUCM A60 Supplier computer communication address
  PNOD A15 Planning node
  SUCL A3 Supplier group
  QUCL A2 Quality class
  ORTY A3 Order type
  TEDL A3 Delivery terms
  MODL A3 Delivery method
  TEAF A3 Freight terms
  TEPA A3 Packaging terms
  DT4T N1 Date type
  DTCD N1 Date code
  VTCD N2 VAT code
  TXAP N1 Tax applicable
  TAXC A3 Tax code customer/address
  CUCD A3 Currency
  CRTP N2 Exchange rate type
  TEPY A3 Payment terms
  PYME A3 Payment method - accounts payable
  ATPR A1 Attribute pricing rule
  ACRF A8 User-defined accounting control object
  BUYE A10 Buyer
  RESP A10 Authorized user
  AGNT A10 Agent
  ABSK A1 ABC class - supplier
  ABSM N1 ABC method - supplier
  PWMT A10 PIN code
  DCSM N1 Discount calculation method
  FUSC A3 Monitoring activity list
  SPFC A2 Monitoring class
  COBI A10 Group of companies
  SCNO A10 Supplier customer number
  SUGR A10 Statistical supplier
  SHST N1 Shipment table
  POOT A3 Point of time table
  OUCN A10 Our customer number at supplier
  TINO A15 Tax ID for supplier
  PRSU A10 Payee
  SERS N2 Service code
  SBPE N1 Self-billing permitted
  PACD A1 Payment priority
  PTDY N2 Tolerance - payment
  SUST N1 Supplier statistics
  DTDY N2 Tolerance - delivery date
  LIDT D8 Last invoice date
  TECD A3 Cash discount term
  REGR N3 Invoice accounting template
  SUSY N2 Number of years of statistics
  SHAC N1 Shipment advice
  AVCD A3 Activity code
  TAME N1 Tax withholding method
  TDCD A4 Trade code
  IAPT N1 Automatic invoice approval code
  IAPC N1 Invoice approval condition 1
  IAPE N1 Invoice approval condition 2
  IAPF N1 Invoice approval condition 3
  CFI1 A10 User-defined field 1 - supplier
  CFI2 N15.2 User-defined field 2 - supplier
  CFI3 A3 User-defined field 3 - supplier
  CFI4 A5 User-defined field 4 - supplier
  CFI5 A1 User-defined field 5 - supplier
  CGRP A10 Consolidation group
  GEOC N9 Geographical code
  PPLV N2 Level of purchase planning
  CINP N1 Claim invoice permitted
  SCIS A3 Rebate claim invoice setting ID
  TXID N13 Text identity
  HAFE A6 Harbor or airport
  SUCO A10 Supplier number within group
  DESV A3 Alternate language for option description
  FWSC A4 Forwarder's SCAC code
  EDIT A1 Date editing
  PODA N3 Transmission lead time - supplier
  MEPF A3 Media profile
  CFI6 A10 User-defined field 1 - purchase/financial
  CFI7 N15.2 User-defined field 2 - purchase/financial
  CFI8 A3 User-defined field 3 - purchase/financial
  CFI9 A5 User-defined field 4 - purchase/financial
  CF10 A1 User-defined field 5 - purchase/financial
  PPIN N1 Print packing instruction
  RASN A10 Rail station
  YRE1 A36 Your reference
  HOMP A60 Home page
`);

const FCHACC = table('FCHACC', 'EA', 'Accounting identities', ['CONO', 'DIVI', 'AITP', 'AITM'], `
  CONO N3 Company
  DIVI A3 Division
  AITP N1 Accounting dimension
  AITM A10 Accounting identity
  AICL A8 Account group
  TX40 A40 Description
  TX15 A15 Name
  AT01 N1 Balance account
  AT02 N1 Profit or loss account
  AT03 N1 Accounts receivable account
  AT11 N1 Accounts payable account
  AT04 N1 VAT account type
  AT05 N1 Internal account
  AT06 N1 Revaluation account
  AT07 N1 Cost of capital account
  AT08 N1 Fixed assets account
  AT09 N1 Period account
  AT10 N1 Clearing account
  LCCD N1 Blocked accounting identity
  OUAC N1 Outcome account
  BUAC N1 Budget account
  CAAC N1 Cost accounting account
  VFDT D8 Valid from
  VTDT D8 Valid to
  ARCH N1 Filing
  ACR2 N1 ACR for accounting dimension 2
  ACR3 N1 ACR for accounting dimension 3
  ACR4 N1 ACR for accounting dimension 4
  ACR5 N1 ACR for accounting dimension 5
  ACR6 N1 ACR for accounting dimension 6
  ACR7 N1 ACR for accounting dimension 7
  ACRV N1 ACR for VAT codes
  ACB2 A1 ACR for acc dimension 2 (budget)
  ACB3 A1 ACR for acc dimension 3 (budget)
  ACB4 A1 ACR for acc dimension 4 (budget)
  ACB5 A1 ACR for acc dimension 5 (budget)
  ACB6 A1 ACR for acc dimension 6 (budget)
  ACB7 A1 ACR for acc dimension 7 (budget)
  ACGR A10 Object access group
  APCG A10 Authority group
  RESP A10 Responsible
  VTCD N2 VAT code
  CCCD N1 Currency connection
  CUCD A3 Currency
  SLCD N1 Sign lock
  MQCD N1 Quantity mandatory
  MTCD N1 Text mandatory
  SUCT A3 Replacement category
  CICT A3 Cost of capital rule
  ETCH N1 Transaction check before deletion
  OBJE A3 Field
  RECE N1 Reconciliation
  PCA1 N1 Petty cash account
  AT12 N1 Bank account
  CLRA N1 Suspense account
  STOA N1 Inventory account
  BACR A1 Enter bank operation
  RDRI A6 Resource driver
  RDVP N7.2 Variable percent
  CMID A8 Cost center model
  GCMT N1 Consolidation method
  TXID N13 Text identity
  CAD2 N1 Compress for accounting dimension 2
  CAD3 N1 Compress for accounting dimension 3
  CAD4 N1 Compress for accounting dimension 4
  CAD5 N1 Compress for accounting dimension 5
  CAD6 N1 Compress for accounting dimension 6
  CAD7 N1 Compress for accounting dimension 7
  DAUC A10 Delegation of authority code
  AT13 N1 Blocked for manual entry
`);

const MPAGRH = table('MPAGRH', 'AH', 'Purchase agreement head', ['CONO', 'SUNO', 'AGNB'], `
  CONO N3 Company
  SUNO A10 Supplier number
  AGNB A7 Agreement number
  AGTP A3 Agreement type
  FVDT D8 Valid from
  UVDT D8 Valid to
  PAST A2 Status - supplier agreement
  TX30 A30 Text
  VAGN A30 Supplier agreement number
  FACI A3 Facility
  ACGR A10 Object access group
  CUCD A3 Currency
`);

const MPHEAD = table('MPHEAD', 'IA', 'Purchase order head', ['CONO', 'PUNO'], `
  CONO N3 Company
  DIVI A3 Division
  PUNO A10 Purchase order number
  SUNO A10 Supplier number
  DONR A3 Document number
  DOVA A2 Document variant
  PUDT D8 Order date
  DWDT D8 Requested delivery date
  LEDT D8 First printout date
  REVN A2 Revision number
  RESP A10 Responsible
  CSCD A3 Country
  BUYE A10 Buyer
  CUCD A3 Currency
  YRE1 A36 Your reference
  PHNO A16 Telephone number
  TFNO A16 Facsimile transmission number
  REVV N15.2 Revision amount
  REMK A30 Remark
  REV1 N15.2 Amount before revision
  COAM N17.2 Total order cost
  FACI A3 Facility
  WHLO A3 Warehouse
  ORTY A3 Order type
  LNCD A2 Language
  TEPY A3 Payment terms
  MODL A3 Delivery method
  TEDL A3 Delivery terms
  TEAF A3 Freight terms
  TEPA A3 Packaging terms
  RFID A10 Reference
  TEL1 A36 Terms text
  HAFE A6 Harbor or airport
  POTC A2 Purchase order category
  PYAD A3 Our invoicing address
  MTDP N1 Multiple delivery addresses
  MTWP N1 Multiple warehouses
  OURR A10 Our reference number
  OURT A1 Reference type
  PRSU A10 Payee
  AGNT A10 Agent
  NTAM N17.2 Net order value
  TOQT N17.6 Total quantity
  SAAM N17.2 Total order cost - local currency
  LOCD A3 Local currency
  RASN A10 Rail station
  EXAT N1 Monitoring active
  FUSC A3 Monitoring activity list
  ODAM N17.2 Order total discount
  PROJ A7 Project number
  ELNO A8 Project element
  BRAM N17.2 Order value gross
  PUSL A2 Lowest status - purchase order
  PUST A2 Highest status - purchase order
  ARAT N12.6 Exchange rate
  LNAM N17.2 Line amount total - order currency
`);

const MPLINE = table('MPLINE', 'IB', 'Purchase order line', ['CONO', 'PUNO', 'PNLI', 'PNLS'], `
  CONO N3 Company
  DIVI A3 Division
  PUNO A10 Purchase order number
  PNLI N5 Purchase order line
  PNLS N3 Purchase order line subnumber
  ITNO A15 Item number
  SITE A30 Supplier item number
  CODT D8 Confirmed delivery date
  CFQA N15.6 Confirmed quantity
  PUUN A3 Purchase order U/M
  ITDS A30 Name
  EACD N13 EAN code
  FACI A3 Facility
  WHLO A3 Warehouse
  POTC A2 Purchase order category
  PUST A2 Highest status - purchase order
  PUSL A2 Lowest status - purchase order
  SUNO A10 Supplier number
  PRCS A3 Service process
  SUFI A20 Service
  PITD A30 Purchase order item name
  PITT A60 Purchase order item description
  SORN A20 Supplier order number
  PUPR N17.6 Purchase price
  ODI1 N7.2 Discount 1
  ODI2 N7.2 Discount 2
  ODI3 N7.2 Discount 3
  CPPR N17.6 Confirmed purchase price
  CFD1 N7.2 Confirmed discount 1
  CFD2 N7.2 Confirmed discount 2
  CFD3 N7.2 Confirmed discount 3
  PPUN A3 Purchase price U/M
  PUCD N5 Purchase price quantity
  CPUC N5 Confirmed purchase price quantity
  LNAM N17.2 Line amount - order currency
  PTCD N1 Purchase price text
  DWDT D8 Requested delivery date
  ORQA N15.6 Ordered quantity - alternate U/M
  ADQA N15.6 Advised quantity alternate U/M
  TNQA N15.6 Transport notified quantity
  RVQA N15.6 Received quantity
  RCDT D8 Receipt date
  CAQA N15.6 Approved quantity - alternate U/M
  RJQA N15.6 Rejected quantity
  SDQA N15.6 Stored quantity
  IVQA N15.6 Invoiced quantity - alternate U/M
  IDAT D8 Invoice date
  PLPN N7 Order proposal number
  PLPS N3 Subnumber - order proposal
  PURC A10 Requisition by
  BUYE A10 Buyer
  GRMT A3 Goods receiving method
  PACT A6 Packaging
  TXID N13 Text identity
  ECVE A4 Revision number
  OURR A10 Our reference number
  OURT A1 Reference type
  VTCD N2 VAT code
  ATNR N17 Attribute number
  RORC N1 Reference order category
  RORN A10 Reference order number
  RORL N6 Reference order line
  RORX N3 Line suffix
  PRIP A1 Priority
  IRCV A20 Recipient
  PROD A10 Manufacturer
  SDPC N7.2 Discount
  MODL A3 Delivery method
  TEDL A3 Delivery terms
  TEL1 A36 Terms text
  HAFE A6 Harbor or airport
  TIHM N4 Time hours & minutes
  UNMS A3 Basic unit of measure
  ORQT N15.6 Ordered quantity - basic U/M
  LOCD A3 Local currency
  CUPR N19.6 Purchase price in local currency
  PUQT N15.6 Price quantity base U/M
  SAAM N17.2 Line amount - local currency
  RVQT N15.6 Received qty - basic U/M
  CFQT N15.6 Confirmed qty - basic U/M
  CUCP N19.6 Confirmed purchase price in local currency
  DUPL N1 Duplicate
  DUPO A10 Duplicate from
  TRRC N1 Related order category
  TRRN A10 Related order number
  TRRL N6 Related order line
  TRRX N3 Line suffix related
  RASN A10 Rail station
  PIAD A6 Pickup address number
  SDES A10 Place of loading
  CIAD A6 Confirmed pickup address
  CDES A10 Confirmed place of loading
  WSCA A6 Costing model
  OWHL A3 Ordering warehouse
  OFCI A3 Ordering facility
  ORAD A6 Origin address
`);

const FAPIBH = table('FAPIBH', 'E5', 'Supplier invoice batch head', ['CONO', 'DIVI', 'INBN'], `
  CONO N3 Company
  DIVI A3 Division
  INBN N10 Invoice batch number
  IBTP A2 Invoice batch type
  SUNO A10 Supplier number
  SPYN A10 Payee
  SINO A24 Supplier invoice number
  IVDT D8 Invoice date
  DUDT D8 Due date
  ACDT D8 Accounting date
  CUCD A3 Currency
  CRTP N2 Exchange rate type
  ARAT N12.6 Exchange rate
  CUAM N17.2 Foreign currency amount
  VTAM N15.2 VAT amount
  TEPY A3 Payment terms
  PYME A3 Payment method - accounts payable
  SUPA A2 Status - supplier invoice batch
  PUNO A10 Purchase order number
  APCD A10 Authorized
  TX40 A40 Description
`);

const FAPIBL = table('FAPIBL', 'E6', 'Supplier invoice batch line', ['CONO', 'DIVI', 'INBN', 'TRNO'], `
  CONO N3 Company
  DIVI A3 Division
  INBN N10 Invoice batch number
  TRNO N5 Transaction number
  RDTP N1 Line type
  PUNO A10 Purchase order number
  PNLI N5 Purchase order line
  PNLS N3 Purchase order line subnumber
  ITNO A15 Item number
  NLAM N17.2 Net line amount
  IVQA N15.6 Invoiced quantity
  PUPR N17.6 Purchase price
  AIT1 A8 Accounting dimension 1
  AIT2 A8 Accounting dimension 2
  VTCD N2 VAT code
  TX40 A40 Description
`);

const FPLEDG = table('FPLEDG', 'EP', 'Accounts payable ledger', ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'], `
  CONO N3 Company
  DIVI A3 Division
  YEA4 N4 Year
  JRNO N7 Journal number
  JSNO N7 Journal sequence number
  TRCD N2 Transaction code
  SPYN A10 Payee
  SUNO A10 Supplier number
  SINO A24 Supplier invoice number
  INYR N4 Invoice year
  VSER A3 Voucher number series
  VONO N8 Voucher number
  IVTP A2 Information type
  TDSC A10 Transaction description
  APCD A10 Authorized
  IVBL N1 Payment stop
  SUCL A3 Supplier group
  BKID A5 Bank account identity
  CUCD A3 Currency
  CRTP N2 Exchange rate type
  ARAT N12.6 Exchange rate
  CUAM N17.2 Foreign currency amount
  VTAM N17.2 VAT
  IVDT D8 Invoice date
  DUDT D8 Due date
  ACDT D8 Accounting date
  TECD A3 Cash discount term
  PYTP A2 Payment type
  PYME A3 Payment method - accounts payable
  TEPY A3 Payment terms
  RECO N1 Internal reconciliation code
  REDE D8 Internal reconciliation date
  PYST N1 Status - payment
  PYRS A2 Remittance status
  ENME N1 Entry method
`);

const FGLEDG = table('FGLEDG', 'EG', 'General ledger transactions', ['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO'], `
  CONO N3 Company
  DIVI A3 Division
  YEA4 N4 Year
  JRNO N7 Journal number
  JSNO N7 Journal sequence number
  TRCD N2 Transaction code
  ACDT D8 Accounting date
  AIT1 A8 Accounting dimension 1
  AIT2 A8 Accounting dimension 2
  AIT3 A8 Accounting dimension 3
  AIT4 A8 Accounting dimension 4
  AIT5 A8 Accounting dimension 5
  AIT6 A8 Accounting dimension 6
  AIT7 A8 Accounting dimension 7
  ACAM N17.2 Recorded amount
  CUAM N17.2 Foreign currency amount
  CUCD A3 Currency
  ARAT N12.6 Exchange rate
  VTCD N2 VAT code
  VTXT A40 Voucher text
  VSER A3 Voucher number series
  VONO N8 Voucher number
  FEID A4 Function ID
`);

const CMNDIV = table('CMNDIV', 'CC', 'Company and division', ['CONO', 'DIVI'], `
  CONO N3 Company
  DIVI A3 Division
  CONM A36 Name
  TX40 A40 Description
  TX15 A15 Short name
  LOCD A3 Local currency
  CSCD A3 Country
  LNCD A2 Language
  FACI A3 Facility
  WHLO A3 Warehouse
`, false);

export const TABLES: ReadonlyMap<string, TableDef> = new Map(
  [CIDMAS, FCHACC, MPAGRH, MPHEAD, MPLINE, FAPIBH, FAPIBL, FPLEDG, FGLEDG, CMNDIV].map((t) => [t.name, t]),
);

export class UnknownTableError extends Error {
  override name = 'UnknownTableError';
  constructor(readonly table: string) {
    super(`table ${table} is not emulated (known: ${[...TABLES.keys()].join(', ')})`);
  }
}

export function tableDef(name: string): TableDef {
  const def = TABLES.get(name.toUpperCase());
  if (!def) throw new UnknownTableError(name);
  return def;
}

export function fieldOf(table: TableDef, name: string): FieldDef {
  const field = table.field.get(name);
  if (!field) throw new Error(`${table.name} has no field ${name}`);
  return field;
}

/** The value a field holds when nothing was written to it (blank alpha, zero numeric, no date). */
export function defaultValue(field: FieldDef): string {
  return field.type === 'A' ? '' : '0';
}

/**
 * Width of a value in EXPORTMI fixed-width output: alpha fields their length, numerics their digits
 * plus a decimal point (when they have decimals) plus a sign position, dates 8.
 */
export function displayWidth(field: FieldDef): number {
  if (field.type === 'A') return field.length;
  if (field.type === 'D') return 8;
  return field.length + (field.decimals > 0 ? 1 : 0) + 1;
}

export function tableInfo(def: TableDef): TableInfo {
  return {
    name: def.name,
    prefix: def.prefix,
    description: def.description,
    key: [...def.key],
    fields: def.fields.map((f) => ({ ...f })),
  };
}
