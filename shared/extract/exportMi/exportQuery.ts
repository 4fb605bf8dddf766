// Builds EXPORTMI/Select queries in the subset M3 is known to accept: one table, prefixed columns,
// AND-joined comparisons with number or quoted-string literals. No OR, no ORDER BY, no company
// condition (EXPORTMI always reads the session company).
import type { FieldDefinition } from '../../catalog/entityDefinition.ts';

export type Operator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface Condition {
  field: FieldDefinition;
  op: Operator;
  value: string;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

function literal(field: FieldDefinition, value: string): string {
  if (field.type === 'A') return `'${value.replaceAll("'", "''")}'`;
  const v = value.trim() === '' ? '0' : value.trim();
  if (!NUMERIC.test(v)) throw new Error(`value "${value}" of numeric field ${field.name} is not a number`);
  return v;
}

export function buildSelect(table: string, prefix: string, columns: readonly FieldDefinition[], conditions: readonly Condition[]): string {
  const cols = columns.map((c) => prefix + c.name).join(', ');
  const where = conditions.map((c) => `${prefix}${c.field.name} ${c.op} ${literal(c.field, c.value)}`).join(' and ');
  return `${cols} from ${table}${where ? ` where ${where}` : ''}`;
}
