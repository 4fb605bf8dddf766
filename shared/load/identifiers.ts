// Identifiers from configuration (catalog, schema, table) are checked against a strict pattern and
// quoted with backticks; nothing from a record ever reaches SQL text.
import { ConfigError } from '../config/configError.ts';
import type { TargetTable } from './loadTypes.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

export function assertIdentifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new ConfigError(
      `${what} "${value}" is not a valid Databricks identifier: use letters, digits and _ (starting with a letter or _), at most 255 characters`,
    );
  }
  return value.toLowerCase();
}

export function quote(identifier: string): string {
  return `\`${identifier}\``;
}

export function validateTarget(table: TargetTable): TargetTable {
  return {
    catalog: assertIdentifier(table.catalog, 'catalog'),
    schema: assertIdentifier(table.schema, 'schema'),
    name: assertIdentifier(table.name, 'table'),
  };
}

/** `catalog`.`schema`.`name` (plus an optional suffix on the table name, e.g. _history). */
export function qualifiedName(table: TargetTable, suffix = ''): string {
  return [table.catalog, table.schema, table.name + suffix].map(quote).join('.');
}
