// Extracts one work unit (entity × company [× division]) into staged part files and a manifest.
// It reads page by page through an async iterator (flat memory), fails loudly on duplicate keys,
// and stops before its deadline with a checkpoint from which the next invocation continues.
import { Readable } from 'node:stream';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { Log } from '../observability/logger.ts';
import { Deadline, DeadlineExceededError } from '../runtime/deadline.ts';
import { joinKey, type BlobStore } from '../staging/blobStore.ts';
import { MANIFEST_NAME, partFileName, type StagedFile, type UnitManifest } from '../staging/manifest.ts';
import { PartWriter } from '../staging/partWriter.ts';
import { pageExportMi } from './exportMi/exportMiPager.ts';
import { DuplicateKeyError } from './extractErrors.ts';
import type { MiExecutor } from './miExecutor.ts';
import { pageMiList } from './miListPager.ts';
import type { Page, PageCursor, PagedReadRequest, ReadWindow } from './pagedRead.ts';
import { changeStamp, recordHash, recordKey, SOURCE_SYSTEM, type SourceCall, type StagedRecord } from './stagedRecord.ts';

export interface ExtractUnitRequest {
  tenant: string;
  entity: EntityDefinition;
  company: string;
  /** '' for company-scoped entities. */
  division: string;
  /** Ignored for snapshot entities (always a full read). */
  window: ReadWindow;
  runId: string;
  /** ISO-8601 UTC start of the run: the change stamp of snapshot records. */
  runStartedAt: string;
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
  /** Called after each page is staged (progress reporting). */
  onProgress?: (progress: { records: number; files: number }) => void;
}

/** What an invocation that ran out of time hands to the next one (ids and counts only, no records). */
export interface ExtractCheckpoint {
  cursor: PageCursor;
  files: StagedFile[];
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
  startedAt: string;
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
  const { entity, store } = req;
  const deadline = req.deadline ?? Deadline.none();
  const recordsPerPart = req.recordsPerPart ?? 50_000;
  const sourceCall = sourceCallOf(entity);
  const window: ReadWindow = entity.strategy === 'snapshot' ? { since: null, until: null } : req.window;
  const files: StagedFile[] = [...(req.checkpoint?.files ?? [])];
  let maxChangeStamp = req.checkpoint?.maxChangeStamp ?? null;
  let maxChangeDate = req.checkpoint?.maxChangeDate ?? null;
  const startedAt = req.checkpoint?.startedAt ?? new Date().toISOString();
  let cursor: PageCursor | undefined = req.checkpoint?.cursor;
  const seenKeys = new Set<string>();
  const dateField = entity.changeFields.date;
  const divisionValue = req.division;

  let part: PartWriter | undefined;
  const finishPart = async () => {
    if (!part) return;
    const done = part;
    part = undefined;
    if (done.recordCount > 0) files.push(await done.finish());
    else {
      done.abort(new Error('empty part discarded'));
    }
  };
  const records = () => files.reduce((n, f) => n + f.records, 0) + (part?.recordCount ?? 0);

  const pages = pagesOf({
    mi: req.mi, entity, company: req.company, division: req.division, window, deadline,
    ...(cursor ? { resumeFrom: cursor } : {}),
  });
  try {
    for (;;) {
      let next: IteratorResult<Page>;
      try {
        next = await pages.next();
      } catch (error) {
        if (error instanceof DeadlineExceededError) {
          await finishPart();
          req.log?.info('extraction paused before the deadline', { entity: entity.id, company: req.company, division: req.division, records: records() });
          return {
            status: 'continue',
            checkpoint: { cursor: cursor ?? {}, files, maxChangeStamp, maxChangeDate, startedAt },
            records: records(),
          };
        }
        throw error;
      }
      if (next.done) break;
      const extractedAt = new Date().toISOString();
      for (const record of next.value.records) {
        const key = recordKey(entity, record);
        if (seenKeys.has(key)) {
          throw new DuplicateKeyError(
            `${entity.id}, company ${req.company}${req.division ? ` division ${req.division}` : ''}: key ${key} was read twice in one extraction; ` +
              'nothing was staged as complete. Check the entity\'s key fields (they must identify a record uniquely) and re-run',
          );
        }
        seenKeys.add(key);
        const stamp = changeStamp(entity, record, req.runStartedAt);
        if (maxChangeStamp === null || stamp > maxChangeStamp) maxChangeStamp = stamp;
        const date = dateField ? record[dateField] : undefined;
        if (entity.strategy === 'incremental' && date && date !== '0' && (maxChangeDate === null || date > maxChangeDate)) {
          maxChangeDate = date;
        }
        const staged: StagedRecord = {
          _tenant: req.tenant,
          _source_system: SOURCE_SYSTEM,
          _entity: entity.id,
          _company: req.company,
          _division: entity.key.includes('DIVI') ? (record.DIVI ?? divisionValue) : divisionValue,
          _record_key: key,
          _record_hash: recordHash(record),
          _change_stamp: stamp,
          _run_id: req.runId,
          _extracted_at: extractedAt,
          _source_call: sourceCall,
          record,
        };
        if (!part) {
          const name = partFileName(files.length + 1);
          part = new PartWriter(store, joinKey(req.unitPrefix, name), name);
        }
        await part.write(JSON.stringify(staged));
        if (part.recordCount >= recordsPerPart) await finishPart();
      }
      cursor = next.value.cursor;
      req.onProgress?.({ records: records(), files: files.length + (part ? 1 : 0) });
      // Keys from earlier pages cannot come back: pagers only move forward (checked there),
      // so the duplicate check needs only the current page's keys in memory.
      if (entity.source.kind === 'exportmi') seenKeys.clear();
    }
    await finishPart();
  } catch (error) {
    part?.abort(error as Error);
    throw error;
  }

  const manifest: UnitManifest = {
    formatVersion: 1,
    tenant: req.tenant,
    entity: entity.id,
    company: req.company,
    division: req.division,
    strategy: entity.strategy,
    window,
    runId: req.runId,
    runStartedAt: req.runStartedAt,
    startedAt,
    completedAt: new Date().toISOString(),
    sourceCall,
    files,
    totalRecords: files.reduce((n, f) => n + f.records, 0),
    maxChangeStamp,
    maxChangeDate,
  };
  const manifestKey = joinKey(req.unitPrefix, MANIFEST_NAME);
  await store.put(manifestKey, Readable.from([JSON.stringify(manifest, null, 2)]));
  return { status: 'complete', manifest, manifestKey };
}
