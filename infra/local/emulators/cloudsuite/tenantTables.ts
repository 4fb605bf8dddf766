// What this tenant's M3 has, over the emulator's full tables (tables.ts): the tableFields and missingTables
// knobs remove tables and columns, add columns and change lengths, the way M3 versions, modifications and
// configuration differ between real tenants. EXPORTMI, LstFields, MI outputs, MRS001MI and truth() all look
// through this view; storage keeps the full rows (a column the tenant lacks is simply never shown).
import type { TransactionDef } from './programs/program.ts';
import { parseFields, TABLES, type FieldDef, type TableDef } from './tables.ts';
import type { Knobs, M3Row } from './types.ts';
import { rightTrim } from './values.ts';

export interface TenantTables {
  /** The tenant's version of a table; undefined when the tenant does not have it. */
  table(name: string): TableDef | undefined;
  /** The tenant's version of a table column (also as an MI output field); undefined when the tenant lacks it. */
  field(field: FieldDef): FieldDef | undefined;
}

const LENGTH = /^([AND])(\d+)(?:\.(\d+))?$/;

function view(base: TableDef, knob: Knobs['tableFields'][string] | undefined, fieldMap: Map<FieldDef, FieldDef | undefined>): TableDef {
  if (!knob) {
    for (const f of base.fields) fieldMap.set(f, f);
    return base;
  }
  const missing = new Set((knob.missing ?? []).map((n) => n.toUpperCase()));
  for (const name of missing) if (!base.field.has(name)) throw new RangeError(`knob tableFields.${base.name}.missing: ${base.name} has no field ${name}`);
  const fields: FieldDef[] = [];
  for (const f of base.fields) {
    if (missing.has(f.name)) {
      fieldMap.set(f, undefined);
      continue;
    }
    const spec = knob.lengths?.[f.name];
    let own = f;
    if (spec !== undefined) {
      const m = LENGTH.exec(spec);
      if (!m || m[1] !== f.type) throw new RangeError(`knob tableFields.${base.name}.lengths.${f.name}: "${spec}" must be ${f.type}<length>[.<decimals>]`);
      own = { ...f, length: Number(m[2]), decimals: Number(m[3] ?? 0) };
    }
    fieldMap.set(f, own);
    fields.push(own);
  }
  for (const extra of parseFields((knob.extra ?? []).join('\n'))) {
    if (fields.some((f) => f.name === extra.name)) throw new RangeError(`knob tableFields.${base.name}.extra: ${extra.name} is already a column`);
    fields.push(extra);
  }
  return { ...base, fields, field: new Map(fields.map((f) => [f.name, f])) };
}

/**
 * The tenant's tables under the current knobs. Built per call (a few hundred fields): knobs may be changed
 * in place at any time, and a cache could miss that.
 */
export function tenantTables(knobs: Knobs): TenantTables {
  const fieldMap = new Map<FieldDef, FieldDef | undefined>();
  for (const name of Object.keys(knobs.tableFields)) {
    if (!TABLES.has(name)) throw new RangeError(`knob tableFields: table ${name} is not emulated`);
  }
  const views = new Map([...TABLES.values()].map((t) => [t.name, view(t, knobs.tableFields[t.name], fieldMap)]));
  const missing = new Set(knobs.missingTables.map((t) => t.toUpperCase()));
  return {
    table: (name) => (missing.has(name.toUpperCase()) ? undefined : views.get(name.toUpperCase())),
    // Fields that are not table columns (a transaction's own) pass unchanged.
    field: (field) => (fieldMap.has(field) ? fieldMap.get(field) : field),
  };
}

/** A transaction's outputs as this tenant's M3 has them (columns its tables lack are not there). */
export function tenantOutputs(transaction: TransactionDef, tables: TenantTables): FieldDef[] {
  return transaction.outputs.flatMap((f) => tables.field(f) ?? []);
}

/** A value as the tenant's field holds it: alpha cut to the field's length (a shorter column holds less). */
export function tenantValue(field: FieldDef, value: string): string {
  return field.type === 'A' && value.length > field.length ? rightTrim(value.slice(0, field.length)) : value;
}

/** A stored row as the tenant's table shows it: its columns only, in its order, defaults filled in. */
export function tenantRow(table: TableDef, row: M3Row): M3Row {
  const out: M3Row = {};
  for (const field of table.fields) out[field.name] = tenantValue(field, row[field.name] ?? (field.type === 'A' ? '' : '0'));
  return out;
}
