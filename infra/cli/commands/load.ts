// `load`: loads a folder produced by `extract` (with its per-division subfolders) into the warehouse:
// the bundled emulator (`--warehouse local[:FILE]`) or a real Databricks SQL warehouse.
import path from 'node:path';
import { EntityCatalog } from '../../../shared/catalog/entityCatalog.ts';
import { expectLoaded, loadTable } from '../../../shared/load/loadTable.ts';
import { LocalFolderBlobStore } from '../../../shared/staging/localFolderBlobStore.ts';
import { readManifest } from '../../../shared/staging/stagedUnitReader.ts';
import { progress, result, UsageError } from '../output.ts';
import { openWarehouse, type WarehouseOptions } from '../warehouseTarget.ts';

export interface LoadOptions extends WarehouseOptions {
  staged: string;
  catalog: string;
  schema: string;
  table?: string;
}

export async function loadCommand(options: LoadOptions): Promise<number> {
  const root = path.resolve(options.staged);
  const store = new LocalFolderBlobStore(root);
  const prefixes = (await store.list(''))
    .filter((key) => key === 'manifest.json' || key.endsWith('/manifest.json'))
    .map((key) => path.posix.dirname(key))
    .map((dir) => (dir === '.' ? '' : dir));
  if (prefixes.length === 0) throw new UsageError(`${root} holds no manifest.json: point --staged at a folder written by \`extract\``);
  const manifests = await Promise.all(prefixes.map((p) => readManifest(store, p)));
  const [first] = manifests;
  const mixed = manifests.find((m) => m.entity !== first!.entity || m.tenant !== first!.tenant || m.company !== first!.company);
  if (mixed) throw new UsageError(`${root} mixes units of different entities, tenants or companies; load one extract folder at a time`);
  const entity = EntityCatalog.withDefaults().get(first!.entity);

  const warehouse = await openWarehouse(options);
  try {
    progress(`loading ${entity.id} company ${first!.company} (${prefixes.length} unit(s)) into ${warehouse.where}`);
    const loaded = expectLoaded(await loadTable({
      tenant: first!.tenant, entity, runId: first!.runId, store, warehouse: warehouse.session,
      table: { catalog: options.catalog, schema: options.schema, name: options.table ?? entity.id },
      units: prefixes.map((p, i) => ({ unitId: `${first!.runId}/${p || manifests[i]!.company}`, unitPrefix: p })),
    }));
    progress(`query it: ${warehouse.howToQuery(`${loaded.table.catalog}.${loaded.table.schema}.${loaded.table.name}`)}`);
    result(
      JSON.stringify({
        entity: entity.id, company: first!.company, files: manifests.reduce((n, m) => n + m.files.length, 0),
        historyInserted: loaded.historyInserted, currentInserted: loaded.currentInserted, currentUpdated: loaded.currentUpdated,
        currentSoftDeleted: loaded.currentSoftDeleted, statements: loaded.statements, bytesSent: loaded.bytesSent,
        refused: loaded.refused.map((u) => u.unitId),
      }),
    );
    // Some units loaded, some were refused by the vanished-keys guard: say which, and fail the command.
    for (const unit of loaded.refused) progress(`refused ${unit.unitId}: ${unit.reason}`);
    return loaded.refused.length > 0 ? 1 : 0;
  } finally {
    await warehouse.close();
  }
}
