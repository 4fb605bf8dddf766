// PPS100MI "Purchase agreement interface" (agreements, not orders): LstAgrHead over MPAGRH. Its only
// input is CONO, so there is no start key to page with: clients need maxrecs=0 (or EXPORTMI on MPAGRH).
import { fieldOf, tableDef } from '../tables.ts';
import { fieldsOf, optional, project, take, type ProgramDef, type TransactionDef } from './program.ts';

/** Outputs per M3 metadata: no company, currency or change columns. */
const LST_AGR_HEAD_OUTPUTS = fieldsOf('MPAGRH', 'SUNO AGNB AGTP FVDT UVDT PAST TX30 VAGN FACI ACGR');

const lstAgrHead: TransactionDef = {
  name: 'LstAgrHead',
  description: 'List purchase agreement heads',
  kind: 'list',
  inputs: optional(fieldOf(tableDef('MPAGRH'), 'CONO')),
  outputs: LST_AGR_HEAD_OUTPUTS,
  run(call) {
    const partition = call.env.data.partition('MPAGRH', call.companyInput());
    return take(partition.rows(), call.limit, (row) => project(row, LST_AGR_HEAD_OUTPUTS));
  },
};

export const PPS100MI: ProgramDef = {
  name: 'PPS100MI',
  description: 'Purchase agreement interface',
  transactions: [lstAgrHead],
};
