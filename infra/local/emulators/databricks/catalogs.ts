// Unity Catalog catalogs ↔ DuckDB databases. The warehouse file (`dbFile`) holds the catalog registry; each
// catalog is its own DuckDB file beside it (`<dir>/<base>.<catalog>.duckdb`), attached as `uc_<catalog>`.
// With dbFile ':memory:' everything lives in memory. `main` (with schema `default`) always exists.
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { databricksErrors } from './errors.ts';
import { catalogAlias, isValidCatalogName, quoteIdent, quoteLiteral } from './identifiers.ts';
import { ensureMetadataSchema } from './tableMetadata.ts';

export const DEFAULT_CATALOG = 'main';
export const DEFAULT_SCHEMA = 'default';
const REGISTRY_DATABASE = 'warehouse_registry';
const REGISTRY_TABLE = `${REGISTRY_DATABASE}.main.catalogs`;

export class CatalogStore {
  private readonly catalogs = new Set<string>();

  private constructor(
    private readonly admin: DuckDBConnection,
    private readonly dbFile: string,
  ) {}

  /** Attaches the registry and every registered catalog; creates `main` on first use. */
  static async open(admin: DuckDBConnection, dbFile: string): Promise<CatalogStore> {
    const store = new CatalogStore(admin, dbFile);
    const registryTarget = dbFile === ':memory:' ? ':memory:' : path.resolve(dbFile);
    await admin.run(`ATTACH ${quoteLiteral(registryTarget)} AS ${REGISTRY_DATABASE}`);
    await admin.run(`CREATE TABLE IF NOT EXISTS ${REGISTRY_TABLE} (name VARCHAR PRIMARY KEY, created_at TIMESTAMPTZ DEFAULT current_timestamp)`);
    const registered = (await admin.runAndReadAll(`SELECT name FROM ${REGISTRY_TABLE} ORDER BY name`)).getRowObjectsJson();
    for (const row of registered) await store.attach(String(row.name));
    if (!store.has(DEFAULT_CATALOG)) await store.create(DEFAULT_CATALOG, { ifNotExists: true });
    return store;
  }

  has(catalog: string): boolean {
    return this.catalogs.has(catalog.toLowerCase());
  }

  names(): string[] {
    return [...this.catalogs].sort();
  }

  /** Throws NO_SUCH_CATALOG_EXCEPTION unless the catalog exists. */
  require(catalog: string): void {
    if (!this.has(catalog)) throw databricksErrors.catalogNotFound(catalog);
  }

  /** The DuckDB file of a catalog (undefined in memory). */
  fileOf(catalog: string): string | undefined {
    if (this.dbFile === ':memory:') return undefined;
    const resolved = path.resolve(this.dbFile);
    const base = path.basename(resolved).replace(/\.[^.]*$/, '');
    return path.join(path.dirname(resolved), `${base}.${catalog}.duckdb`);
  }

  /** CREATE CATALOG: a new DuckDB database with the `default` schema, recorded in the registry. */
  async create(name: string, { ifNotExists }: { ifNotExists: boolean }): Promise<void> {
    const catalog = name.toLowerCase();
    if (!isValidCatalogName(catalog)) throw databricksErrors.invalidIdentifier(name, 'catalog names use letters, digits and _');
    if (this.has(catalog)) {
      if (ifNotExists) return;
      throw databricksErrors.catalogAlreadyExists(catalog);
    }
    await this.attach(catalog);
    await this.admin.run(`INSERT INTO ${REGISTRY_TABLE} (name) VALUES (${quoteLiteral(catalog)}) ON CONFLICT DO NOTHING`);
  }

  /** Writes every catalog completely to its file and detaches it, so the files can be copied or reopened. */
  async close(): Promise<void> {
    for (const catalog of this.catalogs) {
      const alias = quoteIdent(catalogAlias(catalog));
      if (this.dbFile !== ':memory:') await this.admin.run(`CHECKPOINT ${alias}`);
      await this.admin.run(`DETACH ${alias}`);
    }
    this.catalogs.clear();
    if (this.dbFile !== ':memory:') await this.admin.run(`CHECKPOINT ${REGISTRY_DATABASE}`);
    await this.admin.run(`DETACH ${REGISTRY_DATABASE}`);
  }

  private async attach(catalog: string): Promise<void> {
    const file = this.fileOf(catalog) ?? ':memory:';
    const alias = quoteIdent(catalogAlias(catalog));
    await this.admin.run(`ATTACH ${quoteLiteral(file)} AS ${alias}`);
    await this.admin.run(`CREATE SCHEMA IF NOT EXISTS ${alias}.${quoteIdent(DEFAULT_SCHEMA)}`);
    await ensureMetadataSchema(this.admin, catalog);
    this.catalogs.add(catalog);
  }
}
