// CRS630MI "Chart of accounts": LstAccountID over FCHACC for one division and accounting dimension,
// in accounting-identity order from AITM. It has no CONO input: the session company (cono) applies.
import { keySegment } from '../store.ts';
import { fieldOf, tableDef, type FieldDef } from '../tables.ts';
import type { M3Row } from '../types.ts';
import { doesNotExist, fieldsOf, optional, ownFields, project, required, type ProgramDef, type TransactionDef } from './program.ts';

const FCHACC = tableDef('FCHACC');
const DIVI = fieldOf(FCHACC, 'DIVI');
const AITP = fieldOf(FCHACC, 'AITP');
const AITM = fieldOf(FCHACC, 'AITM');

const [LNCD, LX40, LX15] = ownFields(`
  LNCD A2 Language
  LX40 A40 Description
  LX15 A15 Name
`) as [FieldDef, FieldDef, FieldDef];

/** Outputs per M3 metadata; LNCD/LX40/LX15 are the texts in the requested language. */
const LST_ACCOUNT_OUTPUTS = [
  ...fieldsOf(
    'FCHACC',
    `CONO DIVI AITP AITM AICL TX40 TX15 AT01 AT02 AT03 AT11 AT04 AT05 AT06 AT07 AT08 AT09 AT10 LCCD OUAC BUAC CAAC
     VFDT VTDT ARCH ACR2 ACR3 ACR4 ACR5 ACR6 ACR7 ACRV ACB2 ACB3 ACB4 ACB5 ACB6 ACB7 ACGR APCG RESP VTCD CCCD CUCD
     SLCD MQCD MTCD SUCT CICT ETCH OBJE RECE PCA1 AT12 CLRA STOA BACR RDRI RDVP CMID GCMT TXID RGDT RGTM LMDT CHNO
     CHID LMTS CAD2 CAD3 CAD4 CAD5 CAD6 CAD7 DAUC AT13`,
  ),
  LNCD,
  LX40,
  LX15,
];

const lstAccountId: TransactionDef = {
  name: 'LstAccountID',
  description: 'List accounting identities',
  kind: 'list',
  inputs: [...required(AITP), ...optional(DIVI, AITM, LNCD)],
  outputs: LST_ACCOUNT_OUTPUTS,
  run(call) {
    const company = call.company;
    const aitp = call.input('AITP');
    if (Number(aitp) < 1 || Number(aitp) > 7) throw doesNotExist(AITP, aitp);
    const divi = call.input('DIVI') || call.division;
    const info = call.env.data.company(company);
    if (divi !== '' && !info?.divisions.some((d) => d.divi === divi)) throw doesNotExist(DIVI, divi);
    const language = call.input('LNCD');
    const prefix = keySegment(DIVI, divi) + keySegment(AITP, aitp);
    const from = call.input('AITM');
    const start = from === '' ? null : prefix + keySegment(AITM, from);
    const out: M3Row[] = [];
    for (const row of call.env.data.partition('FCHACC', company).scan(prefix, start, call.env.knobs.startRowInclusive)) {
      if (out.length >= call.limit) break;
      const record = project(row, LST_ACCOUNT_OUTPUTS);
      record.LNCD = language;
      record.LX40 = row.TX40 ?? '';
      record.LX15 = row.TX15 ?? '';
      out.push(record);
    }
    return out;
  },
};

export const CRS630MI: ProgramDef = {
  name: 'CRS630MI',
  description: 'Chart of accounts interface',
  transactions: [lstAccountId],
};
