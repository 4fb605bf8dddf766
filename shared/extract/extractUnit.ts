// Extracts one work unit (entity × company [× division]) into staged part files and a manifest.
// It reads page by page through an async iterator (flat memory), fails loudly on duplicate keys,
// and stops before its deadline with a checkpoint from which the next invocation continues.
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { Log } from '../observability/logger.ts';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import type { BlobStore } from '../staging/blobStore.ts';
import type { UnitManifest } from '../staging/manifest.ts';
import { pageExportMi } from './exportMi/exportMiPager.ts';
import type { KeyRange } from './keyRange.ts';
import type { MiExecutor } from './miExecutor.ts';
import { keySetEntity } from './keySet.ts';
import { pageMiList } from './miListPager.ts';
import type { Page, PageCursor, PagedReadRequest } from './pagedRead.ts';
import type { ReadWindow } from '../staging/manifest.ts';
import type { SourceCall } from '../staging/stagedRecord.ts';
import { UnitStager, type StagerState, type UnitIdentity } from '../staging/unitStager.ts';

export interface ExtractUnitRequest extends UnitIdentity {
  /** Ignored for snapshot entities (always a full read). */
  window: ReadWindow;
  /** A sub-unit of a split backfill: only this key range of the scope (EXPORTMI entities). */
  range?: KeyRange;
  /** A read of every record of the scope (full, reconcile): staged as complete, so the load soft-deletes absent keys. */
  complete?: boolean;
  /** A key sweep: read the key columns only (keySetEntity) and stage them as a complete key set (implies complete). */
  keysOnly?: boolean;
  mi: MiExecutor;
  store: BlobStore;
  /** Where the unit's files go in the store, e.g. runs/T/R/suppliers/100. */
  unitPrefix: string;
  deadline?: Deadline;
  /** Start a new part file after this many records. */
  recordsPerPart?: number;
  /** Continue an earlier invocation of the same unit. */
  checkpoint?: ExtractCheckpoint;
  log?: Log;
  /** Warnings about the entity on this tenant (fields it lacks), kept in the manifest. */
  warnings?: readonly string[];
  /** Called after each page is staged (progress reporting). */
  onProgress?: (progress: { records: number; files: number }) => void;
}

/** What an invocation that ran out of time hands to the next one (ids and counts only, no records). */
export interface ExtractCheckpoint extends StagerState {
  cursor: PageCursor;
}

export type ExtractOutcome =
  | { status: 'complete'; manifest: UnitManifest; manifestKey: string }
  | { status: 'continue'; checkpoint: ExtractCheckpoint; records: number };

export function sourceCallOf(entity: EntityDefinition): SourceCall {
  return entity.source.kind === 'mi-list'
    ? { program: entity.source.program, transaction: entity.source.transaction }
    : { program: 'EXPORTMI', transaction: 'Select', table: entity.source.table };
}

function pagesOf(req: PagedReadRequest): AsyncGenerator<Page> {
  return req.entity.source.kind === 'mi-list' ? pageMiList(req) : pageExportMi(req);
}

export async function extractUnit(req: ExtractUnitRequest): Promise<ExtractOutcome> {
  const keysOnly = req.keysOnly === true;
  if (keysOnly && (req.entity.strategy !== 'incremental' || req.range)) {
    throw new Error(`entity ${req.entity.id}: a key sweep reads a whole scope of an incremental entity (no key range)`);
  }
  const entity = keysOnly ? keySetEntity(req.entity) : req.entity;
  if (entity.fields.length === 0) {
    throw new Error(`entity ${entity.id} takes every field of its source ("fields": "all"): resolve it against the tenant first (shared/extract/resolveEntity.ts)`);
  }
  const deadline = req.deadline ?? Deadline.none();
  const window: ReadWindow = entity.strategy === 'snapshot' ? { since: null, until: null } : req.window;
  const stager = new UnitStager({ ...req, entity }, req.store, req.unitPrefix, sourceCallOf(entity), req.recordsPerPart, req.checkpoint);
  let cursor: PageCursor | undefined = req.checkpoint?.cursor;
  if (req.range && entity.source.kind !== 'exportmi') throw new Error(`entity ${entity.id} reads an MI list transaction, which cannot be read by key range`);
  const pages = pagesOf({
    mi: req.mi, entity, company: req.company, division: req.division, window, deadline,
    ...(req.range ? { range: req.range } : {}),
    ...(cursor ? { resumeFrom: cursor } : {}),
    ...(req.log ? { log: req.log } : {}),
  });
  try {
    for (;;) {
      let next: IteratorResult<Page>;
      try {
        next = await pages.next();
      } catch (error) {
        if (!(error instanceof DeadlineExceededError)) throw error;
        const state = await stager.checkpoint();
        req.log?.info('extraction paused before the deadline', { entity: entity.id, company: req.company, division: req.division, records: stager.records });
        return { status: 'continue', checkpoint: { ...state, cursor: cursor ?? {} }, records: stager.records };
      }
      if (next.done) break;
      await stager.add(next.value.records);
      cursor = next.value.cursor;
      req.onProgress?.({ records: stager.records, files: stager.fileCount });
      // Key-cursor pages are checked to come strictly after the cursor, so a key from an earlier
      // page cannot return: the duplicate check needs only the current page's keys in memory.
      if (entity.source.kind === 'exportmi') stager.forgetKeys();
    }
    return { status: 'complete', ...(await stager.complete(window, req.warnings, { complete: req.complete === true || keysOnly, keysOnly })) };
  } catch (error) {
    stager.abort(error as Error);
    throw error;
  }
}
