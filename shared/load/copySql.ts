// The SQL of copy mode: COPY INTO the load's working table straight from a unit's staged part files, so the
// statement count of a load does not grow with its volume (one COPY INTO per unit, per 20 files).
//
// Each part-*.jsonl.gz line is read whole (FILEFORMAT = TEXT, gzip by the extension): every value stays a string
// until SQL types it, exactly as merge mode types the bound JSON. `_record` and `_source_call` are cut out of the
// line byte for byte (a JSON reader would re-serialize them and reorder the call's keys), which relies on the
// staged line's key order: `record` last, `_source_call` just before it (shared/staging/unitStager.ts).
//
// The checks merge mode runs in JavaScript before binding (stagedRowEncoder.ts) run here in SQL, in the same
// statement: a numeric field that is not a number, has more decimals or integer digits than its M3 type, or a
// date that is not a calendar day fails the COPY with raise_error naming the entity, key, field and value, and
// nothing of the statement is loaded. Same accept/reject rules as the encoder (test/load/copyMode.test.ts).
import type { EntityDefinition, FieldDefinition } from '../catalog/entityDefinition.ts';
import { qualifiedName, quote } from './identifiers.ts';
import { sqlString, WORKING_COLUMNS } from './loadSql.ts';
import type { TargetTable } from './loadTypes.ts';
import { tableColumns, type Column } from './tableColumns.ts';

/** Files per COPY INTO: about a million records (50,000 per part file), a statement of a minute or so on a small warehouse. */
export const COPY_FILES_PER_STATEMENT = 20;

const NUMBER = '^-?([0-9]+([.][0-9]*)?|[.][0-9]+)$';

/** The staged value of a field, or of an audit field of the line (NULL when absent). */
const field = (name: string) => `get_json_object(value, ${sqlString(`$.record.${name}`)})`;
const audit = (name: string) => `get_json_object(value, ${sqlString(`$.${name}`)})`;

function failure(entity: EntityDefinition, f: FieldDefinition, raw: string, what: string): string {
  return (
    `raise_error(concat(${sqlString(`${entity.id} `)}, coalesce(${audit('_record_key')}, '?'), ${sqlString(`: field ${f.name} has value "`)}, ` +
    `coalesce(${raw}, ''), ${sqlString(`", which is not a valid ${what}; correct the entity's field type in the catalog (see \`cloudsuite-sync describe\`) or the record in M3`)}))`
  );
}

/** A field's typed value from its staged text, or a raise_error when the text does not fit its M3 type. */
export function typedFieldExpression(entity: EntityDefinition, column: Column): string {
  const f = column.field!;
  const raw = field(f.name);
  if (f.type === 'A') return `coalesce(${raw}, '')`;
  const t = `trim(coalesce(${raw}, ''))`;
  if (f.type === 'N') {
    const maxInt = Math.min(38, f.length) - f.decimals;
    const invalid =
      `NOT regexp_like(${t}, ${sqlString(NUMBER)}) ` +
      `OR length(regexp_extract(${t}, ${sqlString('[.]([0-9]*?)0*$')}, 1)) > ${f.decimals} ` +
      `OR length(regexp_extract(${t}, ${sqlString('^-?0*([0-9]*)')}, 1)) > ${maxInt}`;
    // BIGINT through DECIMAL: '5.' or '1.00' are integers M3 may send, which a direct cast to BIGINT refuses.
    const typed = column.type === 'BIGINT' ? `CAST(try_cast(${t} AS DECIMAL(38,0)) AS BIGINT)` : `try_cast(${t} AS ${column.type})`;
    const what = `number for N${f.length}${f.decimals ? `.${f.decimals}` : ''}`;
    return `CASE WHEN ${t} = '' THEN NULL WHEN ${invalid} THEN ${failure(entity, f, raw, what)} ELSE ${typed} END`;
  }
  const iso = `try_cast(concat(substr(${t}, 1, 4), '-', substr(${t}, 5, 2), '-', substr(${t}, 7, 2)) AS DATE)`;
  return (
    `CASE WHEN ${t} = '' OR regexp_like(${t}, '^0+$') THEN NULL ` +
    `WHEN regexp_like(${t}, '^[0-9]{8}$') AND ${iso} IS NOT NULL THEN ${iso} ` +
    `ELSE ${failure(entity, f, raw, 'date (yyyyMMdd)')} END`
  );
}

function expressionOf(entity: EntityDefinition, column: Column, loadedAt: string, unitId: string): string {
  if (column.field) return typedFieldExpression(entity, column);
  switch (column.name) {
    case '_loaded_at':
      return `CAST(${sqlString(loadedAt)} AS TIMESTAMP)`;
    case '_deleted_at':
      return 'CAST(NULL AS TIMESTAMP)';
    case '_extracted_at':
      return `try_cast(NULLIF(${audit('_extracted_at')}, '') AS TIMESTAMP)`;
    case '_source_call':
      return `regexp_extract(value, ${sqlString('"_source_call":([{][^}]*[}]),"record":')}, 1)`;
    case '_record':
      // (?s): a value may hold U+2028 or U+0085, which JSON.stringify leaves unescaped and `.` would not match.
      return `regexp_extract(value, ${sqlString('(?s),"record":(.*)[}]$')}, 1)`;
    case '_unit':
      return sqlString(unitId);
    case '_batch':
      return 'CAST(NULL AS STRING)'; // COPY INTO itself loads each file once
    default:
      return audit(column.name);
  }
}

/**
 * COPY INTO the working table from some of one unit's part files. `unitUrl` is the unit's folder as the
 * warehouse reads it (`s3://bucket/runs/…/<unit>`); `files` are part file names in it (at most 1000).
 */
export function copyIntoSql(entity: EntityDefinition, working: TargetTable, copy: { unitUrl: string; files: readonly string[]; unitId: string; loadedAt: string }): string {
  const columns = [...tableColumns(entity), ...WORKING_COLUMNS];
  const select = columns.map((c) => `${expressionOf(entity, c, copy.loadedAt, copy.unitId)} AS ${quote(c.name)}`).join(', ');
  return (
    `COPY INTO ${qualifiedName(working)} FROM (SELECT ${select} FROM ${sqlString(copy.unitUrl)}) ` +
    `FILEFORMAT = TEXT FILES = (${copy.files.map(sqlString).join(', ')})`
  );
}
