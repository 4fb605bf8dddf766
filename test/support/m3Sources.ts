// The M3 table behind each default entity, and the rows of it the entity reads: how tests compare what
// was synced with the CloudSuite emulator's own data (emulator.truth(table, company)).
import type { M3Row } from '#emulators/cloudsuite/index.ts';

export const M3_SOURCE: Record<string, { table: string; filter?: (row: M3Row) => boolean }> = {
  suppliers: { table: 'CIDMAS' },
  gl_accounts: { table: 'FCHACC', filter: (r) => r.AITP === '1' },
  purchase_agreements: { table: 'MPAGRH' },
  purchase_orders: { table: 'MPHEAD' },
  purchase_order_lines: { table: 'MPLINE' },
  supplier_invoices: { table: 'FAPIBH' },
  supplier_invoice_lines: { table: 'FAPIBL' },
  ap_ledger: { table: 'FPLEDG' },
  gl_transactions: { table: 'FGLEDG' },
};
