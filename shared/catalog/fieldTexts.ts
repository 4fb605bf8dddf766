// What M3's fields mean to a finance reader: a business name for the per-entity views and a description for
// column comments when the tenant's own metadata has none. The descriptions follow M3's field texts (the
// catalogue generated from M3 metadata); business names are ours. Entities may override any of them.
import type { FieldDefinition } from './entityDefinition.ts';

/** The catalog's knowledge of one M3 field beyond its type. */
export interface FieldText {
  businessName: string;
  description: string;
  /** An amount a control total sums (invoice, order and ledger values; never prices, quantities or rates). */
  amount?: boolean;
  /** Values with a fixed meaning in M3, shown beside the code in the views. */
  codes?: Record<string, string>;
}

/** "NAME business_name [amount] Description": one field a line. */
function texts(spec: string): Record<string, FieldText> {
  const entries = spec
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^([A-Z0-9]{4}) ([a-z][a-z0-9_]*)( amount)? (.+)$/.exec(line.trim());
      if (!m) throw new Error(`bad field text "${line}"`);
      return [m[1]!, { businessName: m[2]!, description: m[4]!, ...(m[3] ? { amount: true } : {}) }] as const;
    });
  return Object.fromEntries(entries);
}

/** The texts every default entity starts from, by M3 field name (the 4 characters after the table prefix). */
export const M3_FIELD_TEXTS: Readonly<Record<string, FieldText>> = texts(`
  ACAM amount_lc amount Recorded amount in the company's local currency
  ACDT accounting_date Accounting date
  ACGR object_access_group Object access group
  AGNB agreement_number Agreement number
  AGNT agent Agent
  AGTP agreement_type Agreement type
  AICL account_group Account group
  AIT1 account Accounting dimension 1 (the general ledger account)
  AIT2 dimension_2 Accounting dimension 2
  AIT3 dimension_3 Accounting dimension 3
  AIT4 dimension_4 Accounting dimension 4
  AIT5 dimension_5 Accounting dimension 5
  AIT6 dimension_6 Accounting dimension 6
  AIT7 dimension_7 Accounting dimension 7
  AITM accounting_identity Accounting identity (the value of the accounting dimension)
  AITP accounting_dimension Accounting dimension number (1 = account)
  APCD authorized_by Authorized user
  ARAT exchange_rate Exchange rate
  BUYE buyer Buyer
  CAQA approved_quantity Approved quantity in the alternate unit of measure
  CHID changed_by Changed by (M3 user)
  CHNO change_number Change number (counts changes to the record; wraps after 999)
  COAM total_order_cost amount Total order cost
  COBI group_of_companies Group of companies
  CODT confirmed_delivery_date Confirmed delivery date
  CONO company Company
  CRTP exchange_rate_type Exchange rate type
  CSCD country Country
  CUAM amount_fc amount Amount in foreign (transaction) currency
  CUCD currency Currency
  CUPR purchase_price_lc Purchase price in local currency
  DIVI division Division
  DUDT due_date Due date
  DWDT requested_delivery_date Requested delivery date
  ECAR state Area or state
  FACI facility Facility
  FEID function_id Function ID (the M3 function that created the transaction)
  FVDT valid_from Valid from
  IBTP invoice_batch_type Invoice batch type
  INBN invoice_batch_number Invoice batch number
  INYR invoice_year Invoice year
  ITDS item_name Item name
  ITNO item_number Item number
  IVDT invoice_date Invoice date
  IVQA invoiced_quantity Invoiced quantity
  IVTP information_type Information type
  JRNO journal_number Journal number
  JSNO journal_sequence Journal sequence number
  LEDT first_printout_date First printout date
  LMDT change_date Change date (the day M3 last changed the record, tenant local time)
  LMTS change_timestamp Change timestamp (M3 LMTS, 18 digits)
  LNAM line_amount amount Line amount in order currency
  LNCD language Language
  MODL delivery_method Delivery method
  NLAM net_line_amount amount Net line amount
  NTAM net_order_value amount Net order value
  ORQA ordered_quantity Ordered quantity in the alternate unit of measure
  ORTY order_type Order type
  OURR our_reference Our reference number
  PAST agreement_status Status of the supplier agreement
  PHNO phone Telephone number 1
  PITD supplier_item_name Purchase order item name
  PITT supplier_item_description Purchase order item description
  PNLI po_line Purchase order line
  PNLS po_line_subnumber Purchase order line subnumber
  PPUN purchase_price_uom Purchase price unit of measure
  PROD manufacturer Manufacturer
  PROJ project Project number
  PUCD purchase_price_quantity Purchase price quantity
  PUDT order_date Order date
  PUNO purchase_order_number Purchase order number
  PUPR purchase_price Purchase price
  PUSL lowest_status Lowest status of the purchase order lines
  PUST highest_status Highest status of the purchase order lines
  PUUN purchase_uom Purchase order unit of measure
  PYME payment_method Payment method (accounts payable)
  PYST payment_status Payment status
  RCDT receipt_date Receipt date
  RDTP line_type Line type
  RECO reconciliation_code Internal reconciliation code
  REDE reconciliation_date Internal reconciliation date
  REMK remark Remark
  RESP responsible Responsible user
  RGDT entry_date Entry date (when the record was created in M3)
  RGTM entry_time Entry time (HHmmss)
  RJQA rejected_quantity Rejected quantity
  RVQA received_quantity Received quantity
  SAAM line_amount_lc amount Line amount in local currency
  SINO invoice_number Supplier invoice number
  SITE supplier_item_number Supplier item number
  SORN supplier_order_number Supplier order number
  SPYN payee Payee (the supplier paid)
  SUCL supplier_group Supplier group
  SUFI service Service
  SUGR statistical_supplier Statistical supplier
  SUNM supplier_name Supplier name
  SUNO supplier_number Supplier number
  SUPA batch_status Status of the supplier invoice batch
  SUST supplier_statistics Supplier statistics
  TAXC tax_code Tax code
  TEDL delivery_terms Delivery terms
  TEL1 terms_text Terms text
  TEPY payment_terms Payment terms
  TINO tax_id Tax identification number of the supplier
  TOQT total_quantity Total quantity
  TRCD transaction_code Transaction code
  TRNO transaction_number Transaction number
  TX15 short_name Name
  TX30 text Text
  TX40 description Description
  UVDT valid_to Valid to
  VAGN supplier_agreement_number Supplier agreement number
  VFDT valid_from Valid from
  VONO voucher_number Voucher number
  VSER voucher_series Voucher number series
  VTAM vat_amount amount VAT amount
  VTCD vat_code VAT code
  VTDT valid_to Valid to
  VTXT voucher_text Voucher text
  WHLO warehouse Warehouse
  YEA4 year Accounting year
  YRE1 your_reference Your reference
`);

/** Overrides for one entity: a field whose meaning there is narrower than its general text. */
export type FieldTextOverrides = Record<string, Partial<FieldText>>;

/** The field with the catalog's texts (entity overrides first, then the general text); unknown fields stay as they are. */
export function withFieldText<F extends FieldDefinition>(field: F, overrides: FieldTextOverrides = {}): F {
  const text = { ...M3_FIELD_TEXTS[field.name], ...overrides[field.name] };
  return {
    ...field,
    ...(text.description !== undefined ? { description: text.description } : {}),
    ...(text.businessName !== undefined ? { businessName: text.businessName } : {}),
    ...(text.amount ? { amount: true } : {}),
    ...(text.codes ? { codes: text.codes } : {}),
  };
}
