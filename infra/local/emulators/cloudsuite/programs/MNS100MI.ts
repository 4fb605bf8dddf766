// MNS100MI "Company/division interface": LstDivisions lists a company's divisions from CMNDIV in
// division order from DIVI. Only real divisions: the blank company-level row is not listed.
import { keySegment } from '../store.ts';
import { fieldOf, tableDef } from '../tables.ts';
import type { M3Row } from '../types.ts';
import { fieldsOf, optional, ownFields, required, type ProgramDef, type TransactionDef } from './program.ts';

const CMNDIV = tableDef('CMNDIV');
const DIVI = fieldOf(CMNDIV, 'DIVI');

const LST_DIVISIONS_OUTPUTS = [
  ...fieldsOf('CMNDIV', 'CONO DIVI TX15 FACI'),
  ...ownFields('FACN A30 Name'),
  ...fieldsOf('CMNDIV', 'WHLO'),
  ...ownFields('WHNM A36 Description'),
];

const lstDivisions: TransactionDef = {
  name: 'LstDivisions',
  description: 'List divisions',
  kind: 'list',
  inputs: [...required(fieldOf(CMNDIV, 'CONO')), ...optional(DIVI)],
  outputs: LST_DIVISIONS_OUTPUTS,
  run(call) {
    const company = call.companyInput();
    const info = call.env.data.company(company);
    const from = call.input('DIVI');
    const out: M3Row[] = [];
    for (const row of call.env.data.partition('CMNDIV', company).scan('', from === '' ? null : keySegment(DIVI, from))) {
      if (out.length >= call.limit) break;
      if ((row.DIVI ?? '') === '') continue;
      const division = info?.divisions.find((d) => d.divi === row.DIVI);
      out.push({
        CONO: company,
        DIVI: row.DIVI as string,
        TX15: row.TX15 ?? '',
        FACI: row.FACI ?? '',
        FACN: division?.facilityName ?? '',
        WHLO: row.WHLO ?? '',
        WHNM: division?.warehouseName ?? '',
      });
    }
    return out;
  },
};

export const MNS100MI: ProgramDef = {
  name: 'MNS100MI',
  description: 'Company/division interface',
  transactions: [lstDivisions],
};
