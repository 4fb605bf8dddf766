// EXPORTMI: Select runs the supported SQL-like subset over one table of the session company and
// answers each row as one REPL string (see ../exportMi.ts); LstFields describes a table's columns.
import { QueryError, formatHeader, formatRepl, parseExportQuery, selectRows } from '../exportMi.ts';
import type { FieldDef } from '../tables.ts';
import { tenantTables } from '../tenantTables.ts';
import { MiError, optional, ownFields, required, take, type ProgramDef, type TransactionDef } from './program.ts';

const [QERY, SEPC, HDRS, FILE] = ownFields(`
  QERY A3000 Query statement
  SEPC A1 Separator character
  HDRS N1 Include headers, 1 or 0 or blank
  FILE A10 Table
`) as [FieldDef, FieldDef, FieldDef, FieldDef];

const SELECT_OUTPUTS = ownFields('REPL A984 Reply field');

const select: TransactionDef = {
  name: 'Select',
  description: 'Select data from a table',
  kind: 'list',
  inputs: [...required(QERY), ...optional(SEPC, HDRS)],
  outputs: SELECT_OUTPUTS,
  run(call) {
    let query;
    try {
      query = parseExportQuery(call.input('QERY'), tenantTables(call.env.knobs));
    } catch (error) {
      if (error instanceof QueryError) throw new MiError('XQY0001', 'QERY', `Invalid query: ${error.message}`);
      throw error;
    }
    const separator = call.input('SEPC');
    const rows = selectRows(query, {
      partition: call.env.data.partition(query.table.name, call.company),
      division: call.division,
      knobs: call.env.knobs,
      limit: call.limit,
      seed: call.env.data.seed,
    });
    const records = rows.map((row) => ({ REPL: formatRepl(query, row, separator) }));
    // maxrecs counts data rows; the header comes on top.
    if (call.input('HDRS') === '1') records.unshift({ REPL: formatHeader(query, separator) });
    return records;
  },
};

const LST_FIELDS_OUTPUTS = ownFields(`
  FLDN A6 Field name
  FLDS A15 Field description
  FLTY A1 Field type
  FLLE N3 Field length
  FLDP N2 Number of decimal places
`);

const lstFields: TransactionDef = {
  name: 'LstFields',
  description: 'List fields of a table',
  kind: 'list',
  inputs: required(FILE),
  outputs: LST_FIELDS_OUTPUTS,
  run(call) {
    const name = call.input('FILE');
    const table = tenantTables(call.env.knobs).table(name);
    if (!table) throw new MiError('WFI0103', 'FILE', `Table ${name} does not exist`);
    return take(table.fields, call.limit, (field) => ({
      FLDN: table.prefix + field.name,
      // The description field is 15 long: longer descriptions come back cut.
      FLDS: field.description.slice(0, 15).trimEnd(),
      FLTY: field.type,
      FLLE: String(field.length),
      FLDP: String(field.decimals),
    }));
  },
};

export const EXPORTMI: ProgramDef = {
  name: 'EXPORTMI',
  description: 'Export data',
  transactions: [select, lstFields],
};
