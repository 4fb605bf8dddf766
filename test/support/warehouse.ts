// Test helpers for loading: a warehouse emulator with a connected session through the real driver,
// and staged units built from given records through the product's own staging code.
import { connectToEmulator, startWarehouseEmulator, type WarehouseEmulator } from '#emulators/databricks/index.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { sourceCallOf } from '#shared/extract/extractUnit.ts';
import { UnitStager } from '#shared/staging/unitStager.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { DatabricksSession } from '#shared/load/databricksSession.ts';
import type { BlobStore } from '#shared/staging/blobStore.ts';

/** `session.workspace`: set, loads remember their looks at the schema (shared/load/rememberedLook.ts); default unset. */
export async function warehouseWithSession(options: Parameters<typeof startWarehouseEmulator>[0] = {}, session_: { workspace?: string } = {}) {
  const warehouse = await startWarehouseEmulator(options);
  const { client } = await connectToEmulator(warehouse, { retryDelayMin: 1, retryDelayMax: 5 } as never);
  const session = new DatabricksSession({ client, ...session_ });
  return {
    warehouse,
    session,
    async close() {
      await session.close();
      await client.close();
      await warehouse.close();
    },
  };
}

export interface StageOptions {
  tenant?: string;
  company?: string;
  division?: string;
  runId: string;
  runStartedAt: string;
  recordsPerPart?: number;
  /** When the records were read (default now): orders reads of the same change stamp. */
  extractedAt?: string;
  /** Stage the unit as a complete read of its scope (reconcile, full). */
  complete?: boolean;
  /** Stage the unit as a key sweep's key set (implies complete; give it the key-set entity and key-only records). */
  keysOnly?: boolean;
}

export async function stageRecords(store: BlobStore, unitPrefix: string, entity: EntityDefinition, records: MiRecord[], o: StageOptions) {
  const stager = new UnitStager(
    { tenant: o.tenant ?? 'ACME_PRD', entity, company: o.company ?? '100', division: o.division ?? '', runId: o.runId, runStartedAt: o.runStartedAt },
    store, unitPrefix, sourceCallOf(entity), o.recordsPerPart ?? 50_000,
  );
  await stager.add(records, o.extractedAt);
  return stager.complete({ since: null, until: null }, [], o.keysOnly ? { complete: true, keysOnly: true } : o.complete ? { complete: true } : {});
}

/** Every row of a table, ordered by record key, with values as the emulator returns them. */
export function tableRows(warehouse: WarehouseEmulator, name: string) {
  return warehouse.query(`SELECT * FROM ${name} ORDER BY _tenant, _record_key`);
}
