// MRS001MI "MI metadata": LstAdtFieldInf describes the input or output fields of any emulated
// transaction, generated from the same definitions the programs run on (one source of truth).
// As in M3 (and Infor's Odin SDK), FLDS is the field description and FLDP its number of decimals.
import type { FieldDef } from '../tables.ts';
import { tenantOutputs, tenantTables } from '../tenantTables.ts';
import type { M3Row } from '../types.ts';
import { MiError, findTransaction, optional, ownFields, required, take, type ProgramDef, type TransactionDef } from './program.ts';

const [MINM, TRNM, TRTP, LNCD] = ownFields(`
  MINM A10 Program name
  TRNM A15 Transaction name
  TRTP A1 Layout type, Input/Output
  LNCD A2 Language
`) as [FieldDef, FieldDef, FieldDef, FieldDef];

const LST_ADT_FIELD_INF_OUTPUTS = ownFields(`
  FLNM A10 Field name
  FLDS A60 Description
  FRPO N3 From position
  TOPO N3 To position
  LENG N3 Length
  FLDP N2 Number of decimal places
  TYPE A1 Field type A=Alphanumeric, N=Numeric
  MAND A1 Mandatory
  TX15 A15 Name
`);

function describe(fields: readonly (FieldDef & { required?: boolean })[]): M3Row[] {
  let position = 1;
  return fields.map((field) => {
    const record: M3Row = {
      FLNM: field.name,
      FLDS: field.description,
      FRPO: String(position),
      TOPO: String(position + field.length - 1),
      LENG: String(field.length),
      FLDP: String(field.decimals),
      TYPE: field.type,
      MAND: field.required ? '1' : '0',
      TX15: field.description.slice(0, 15).trimEnd(),
    };
    position += field.length;
    return record;
  });
}

const lstAdtFieldInf: TransactionDef = {
  name: 'LstAdtFieldInf',
  description: 'List field information',
  kind: 'list',
  inputs: [...required(MINM, TRNM, TRTP), ...optional(LNCD)],
  outputs: LST_ADT_FIELD_INF_OUTPUTS,
  run(call) {
    const programName = call.input('MINM');
    const program = call.env.programs.get(programName);
    if (!program) throw new MiError('WMI0103', 'MINM', `Program ${programName} does not exist`);
    const transactionName = call.input('TRNM');
    const transaction = findTransaction(program, transactionName);
    if (!transaction) throw new MiError('WTR0103', 'TRNM', `Transaction ${transactionName} does not exist in ${programName}`);
    const layout = call.input('TRTP');
    if (layout !== 'I' && layout !== 'O') throw new MiError('WTR0104', 'TRTP', `Layout type ${layout} is invalid; use I or O`);
    // The output layout as this tenant's M3 has it (columns its tables lack are not there).
    const fields = layout === 'I' ? transaction.inputs : tenantOutputs(transaction, tenantTables(call.env.knobs));
    return take(describe(fields), call.limit, (r) => r);
  },
};

export const MRS001MI: ProgramDef = {
  name: 'MRS001MI',
  description: 'MI metadata interface',
  transactions: [lstAdtFieldInf],
};
