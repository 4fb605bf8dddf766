// PPS200MI "Purchase order interface": GetHead (one MPHEAD record, with the names M3 joins in) and
// LstLine (all MPLINE lines of one order in line order). LstLine has no start-line input, so an order
// with more lines than maxrecs cannot be paged: read it with maxrecs=0 or through EXPORTMI.
import { keySegment } from '../store.ts';
import { fieldOf, tableDef } from '../tables.ts';
import { doesNotExist, fieldsOf, optional, ownFields, project, required, take, type ProgramDef, type TransactionDef } from './program.ts';

const MPHEAD = tableDef('MPHEAD');
const PUNO = fieldOf(MPHEAD, 'PUNO');
const CONO = fieldOf(MPHEAD, 'CONO');

/** Texts M3 joins into GetHead from the currency, terms and user tables. */
const TEXTS: Record<string, Record<string, string>> = {
  TXCU: { SEK: 'Svenska kronor', EUR: 'Euro', USD: 'US dollar', GBP: 'Pound sterling', CNY: 'Renminbi 人民币', JPY: 'Yen', NOK: 'Norske kroner' },
  TXPY: { '30': '30 days net', '60': '60 days net', N10: 'Net 10; 2% skonto', '14': '14 days', '45E': '45 days end of month' },
  TXMO: { TRK: 'Truck', AIR: 'Air freight', SEA: 'Sea freight' },
  TXDL: { DAP: 'Delivered at place', EXW: 'Ex works', FCA: 'Free carrier' },
};

const HEAD_COLUMNS = `CONO PUNO DONR DOVA PUDT DWDT LEDT REVN SUNO CSCD BUYE CUCD YRE1 PHNO TFNO REVV REMK REV1 COAM DIVI FACI
  WHLO ORTY LNCD TEPY MODL TEDL TEAF TEPA RFID TEL1 HAFE POTC PYAD MTDP MTWP OURR OURT PRSU AGNT NTAM TOQT SAAM LOCD
  RASN EXAT FUSC ODAM PROJ ELNO BRAM`;
const JOINED = ownFields(`
  DATE D8 Entry date
  CONM A36 Company name
  RENM A36 Name of user responsible
  TXCU A15 Currency name
  TXPY A15 Terms of Payment name
  TXMO A15 Delivery Mode name
  TXDL A15 Terms of Delivery name
  TXAF A15 Terms of Freight name
  TXPA A15 Terms of Packaging name
  TXHA A15 Harbor or airport name
`);
const GET_HEAD_OUTPUTS = [...fieldsOf('MPHEAD', HEAD_COLUMNS), ...JOINED];

const getHead: TransactionDef = {
  name: 'GetHead',
  description: 'Get purchase order head',
  kind: 'get',
  inputs: [...required(PUNO), ...optional(CONO)],
  outputs: GET_HEAD_OUTPUTS,
  run(call) {
    const company = call.companyInput();
    const puno = call.input('PUNO');
    const head = call.env.data.partition('MPHEAD', company).get(keySegment(PUNO, puno));
    if (!head) throw doesNotExist(PUNO, puno);
    const record = project(head, GET_HEAD_OUTPUTS);
    record.DATE = head.RGDT ?? '0';
    record.CONM = call.env.data.company(company)?.name ?? '';
    record.RENM = head.RESP ? `User ${head.RESP}` : '';
    for (const [text, names] of Object.entries(TEXTS)) {
      const code = text === 'TXCU' ? head.CUCD : text === 'TXPY' ? head.TEPY : text === 'TXMO' ? head.MODL : head.TEDL;
      record[text] = names[code ?? ''] ?? '';
    }
    return [record];
  },
};

const LST_LINE_OUTPUTS = fieldsOf(
  'MPLINE',
  `CONO PUNO PNLI PNLS ITNO SITE CODT CFQA PUUN ITDS EACD FACI WHLO POTC PUST PUSL SUNO PRCS SUFI PITD PITT SORN PUPR
   ODI1 ODI2 ODI3 CPPR CFD1 CFD2 CFD3 PPUN PUCD CPUC LNAM PTCD DWDT ORQA ADQA TNQA RVQA RCDT CAQA RJQA SDQA IVQA IDAT
   PLPN PLPS PURC BUYE GRMT PACT TXID ECVE OURR OURT VTCD ATNR RORC RORN RORL RORX PRIP IRCV PROD SDPC MODL TEDL TEL1
   HAFE TIHM UNMS ORQT LOCD CUPR PUQT SAAM RVQT CFQT CUCP DUPL DUPO TRRC TRRN TRRL TRRX RASN PIAD SDES CIAD CDES WSCA
   OWHL OFCI ORAD`,
);

const lstLine: TransactionDef = {
  name: 'LstLine',
  description: 'List purchase order lines',
  kind: 'list',
  inputs: [...required(PUNO), ...optional(CONO)],
  outputs: LST_LINE_OUTPUTS,
  run(call) {
    const company = call.companyInput();
    const puno = call.input('PUNO');
    const key = keySegment(PUNO, puno);
    if (!call.env.data.partition('MPHEAD', company).has(key)) throw doesNotExist(PUNO, puno);
    return take(call.env.data.partition('MPLINE', company).scan(key), call.limit, (row) => project(row, LST_LINE_OUTPUTS));
  },
};

export const PPS200MI: ProgramDef = {
  name: 'PPS200MI',
  description: 'Purchase order interface',
  transactions: [getHead, lstLine],
};
