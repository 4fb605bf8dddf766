// One staged unit into a load's working table, resuming where its progress says: ~1 MiB batches of bound JSON,
// each with an id so that sending it twice adds nothing (merge mode), or COPY INTO from the unit's part files, up to
// COPY_FILES_PER_STATEMENT a statement, files already loaded skipped by Delta (copy mode). Shared by the content
// load (loadTable.ts) and the key sweep (sweepKeys.ts), whose working tables differ only in their columns.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { Deadline } from '../runtime/deadline.ts';
import { joinKey, type BlobStore } from '../staging/blobStore.ts';
import type { UnitManifest } from '../staging/manifest.ts';
import { readStagedFile } from '../staging/stagedUnitReader.ts';
import { COPY_FILES_PER_STATEMENT, copyIntoSql } from './copySql.ts';
import { insertBatchSql } from './loadSql.ts';
import type { LoadMode, TargetTable, UnitProgress, WarehouseSession } from './loadTypes.ts';
import { encodeStagedRecord } from './stagedRowEncoder.ts';

/** Bound JSON per statement; with the SQL text this stays well under the 1 MiB statement limit. */
export const MAX_BATCH_BYTES = 900_000;
/** Staging stops when less than this is left of the invocation (wall-clock ms): one more batch or COPY must fit. */
export const STAGE_STEP_RESERVE_MS = 90_000;

export interface UnitStaging {
  wh: WarehouseSession;
  store: BlobStore;
  /** The entity as the working table has it (the key sweep's holds the key columns only). */
  entity: EntityDefinition;
  working: TargetTable;
  mode: LoadMode;
  loadedAt: string;
  deadline: Deadline;
  /** Throws when the invocation has no time left for another staging statement. */
  timeForAnotherStep: () => void;
  /** Called before each staging statement goes out. */
  sending?: () => void;
}

export async function stageUnit(s: UnitStaging, unitId: string, unitPrefix: string, manifest: UnitManifest, progress: UnitProgress): Promise<void> {
  const send = async (sql: string, params: Record<string, string>) => {
    s.timeForAnotherStep();
    s.sending?.();
    await s.wh.execute(sql, params, { deadline: s.deadline });
  };
  if (s.mode === 'copy') {
    const unitUrl = s.store.warehouseUrl!(joinKey(unitPrefix) || '.').replace(/\/\.$/, '');
    while (progress.files < manifest.files.length) {
      const files = manifest.files.slice(progress.files, progress.files + COPY_FILES_PER_STATEMENT).map((f) => f.name);
      await send(copyIntoSql(s.entity, s.working, { unitUrl, files, unitId, loadedAt: s.loadedAt }), {});
      progress.files += files.length;
    }
    return;
  }
  const insert = insertBatchSql(s.entity, s.working);
  for (let fileIndex = progress.files; fileIndex < manifest.files.length; fileIndex += 1) {
    let batch: string[] = [];
    let bytes = 2;
    let batchIndex = 0;
    const flush = async () => {
      if (!batch.length) return;
      if (batchIndex >= progress.batches) {
        await send(insert, { rows: `[${batch.join(',')}]`, loaded_at: s.loadedAt, batch: `${unitId}#${fileIndex}#${batchIndex}` });
        progress.batches = batchIndex + 1;
      }
      batchIndex += 1;
      batch = [];
      bytes = 2;
    };
    for await (const staged of readStagedFile(s.store, unitPrefix, manifest.files[fileIndex]!)) {
      const json = JSON.stringify(encodeStagedRecord(s.entity, unitId, staged));
      const size = Buffer.byteLength(json) + 1;
      if (bytes + size > MAX_BATCH_BYTES) await flush();
      batch.push(json);
      bytes += size;
    }
    await flush();
    progress.files = fileIndex + 1;
    progress.batches = 0;
  }
}
