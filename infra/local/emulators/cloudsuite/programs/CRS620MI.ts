// CRS620MI "Supplier interface": LstSuppliers over CIDMAS, in supplier-number order from FRSU (the
// start-key row included when the startRowInclusive knob says so, as M3 does) up to TOSU.
import { keySegment } from '../store.ts';
import { fieldOf, tableDef } from '../tables.ts';
import type { M3Row } from '../types.ts';
import { compareAlpha, compareNumeric } from '../values.ts';
import { fieldsOf, optional, ownFields, project, type ProgramDef, type TransactionDef } from './program.ts';

const CIDMAS = tableDef('CIDMAS');
const SUNO = fieldOf(CIDMAS, 'SUNO');

/** The outputs of LstSuppliers per M3 metadata: no status, change date or change number among them. */
const LST_SUPPLIERS_OUTPUTS = fieldsOf(
  'CIDMAS',
  `CONO SUNO SUNM LNCD PHNO CSCD ECAR PNOD SUCL QUCL ORTY TEDL MODL TEAF TEPA DT4T DTCD VTCD TXAP TAXC CUCD CRTP
   TEPY PYME ATPR ACRF BUYE RESP AGNT ABSK ABSM PWMT DCSM FUSC SPFC COBI SCNO SUGR SHST POOT OUCN TINO PRSU SERS
   SBPE PACD PTDY SUST DTDY LIDT TECD REGR SUSY SHAC AVCD TAME TDCD IAPT IAPC IAPE IAPF CFI1 CFI2 CFI3 CFI4 CFI5
   CGRP GEOC PPLV CINP SCIS`,
);

const lstSuppliers: TransactionDef = {
  name: 'LstSuppliers',
  description: 'List suppliers',
  kind: 'list',
  inputs: [
    ...optional(fieldOf(CIDMAS, 'CONO')),
    ...optional(
      ...ownFields(`
        FRSU A10 From supplier
        TOSU A10 To supplier
        LMTS N18 Last import's timestamp
      `),
    ),
  ],
  outputs: LST_SUPPLIERS_OUTPUTS,
  run(call) {
    const partition = call.env.data.partition('CIDMAS', call.companyInput());
    const from = call.input('FRSU');
    const to = call.input('TOSU');
    const since = call.input('LMTS');
    const out: M3Row[] = [];
    for (const row of partition.scan('', from === '' ? null : keySegment(SUNO, from), call.env.knobs.startRowInclusive)) {
      if (out.length >= call.limit) break;
      if (to !== '' && compareAlpha(row.SUNO as string, to) > 0) break;
      // LMTS: only suppliers changed after the caller's last import.
      if (since !== '' && since !== '0' && compareNumeric(row.LMTS ?? '0', since) <= 0) continue;
      out.push(project(row, LST_SUPPLIERS_OUTPUTS));
    }
    return out;
  },
};

export const CRS620MI: ProgramDef = {
  name: 'CRS620MI',
  description: 'Supplier interface',
  transactions: [lstSuppliers],
};
