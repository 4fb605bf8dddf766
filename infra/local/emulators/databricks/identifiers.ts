// How Databricks names map onto DuckDB names. Unity Catalog names are case-insensitive and stored lower-case;
// every catalog is a DuckDB database attached under a prefixed alias, because DuckDB reserves `main`, `system`,
// `temp` and `memory` as database names (and the prefix keeps user catalogs apart from DuckDB's own).

const CATALOG_ALIAS_PREFIX = 'uc_';

/** A DuckDB-quoted identifier (DuckDB matches quoted identifiers case-insensitively, like Databricks). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A DuckDB string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The DuckDB database alias of a Databricks catalog. */
export function catalogAlias(catalog: string): string {
  return `${CATALOG_ALIAS_PREFIX}${catalog.toLowerCase()}`;
}

/** The Databricks catalog name behind a DuckDB database alias (other names are returned unchanged). */
export function catalogFromAlias(alias: string): string {
  return alias.startsWith(CATALOG_ALIAS_PREFIX) ? alias.slice(CATALOG_ALIAS_PREFIX.length) : alias;
}

/** SQL that yields the current Databricks catalog from DuckDB's current database. */
export const CURRENT_CATALOG_SQL = `regexp_replace(current_database(), '^${CATALOG_ALIAS_PREFIX}', '')`;

/** Unity Catalog object names the emulator accepts (they also become file names for catalogs). */
export function isValidCatalogName(name: string): boolean {
  return /^[a-z0-9_]{1,255}$/.test(name);
}
