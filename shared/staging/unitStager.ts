// Turns the records of one unit into staged part files and, at the end, its manifest. Extraction
// feeds it page by page; it keeps only the current part open, so memory stays flat.
import { Readable } from 'node:stream';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { joinKey, type BlobStore } from './blobStore.ts';
import { MANIFEST_NAME, partFileName, type ReadWindow, type StagedFile, type UnitManifest } from './manifest.ts';
import { PartWriter } from './partWriter.ts';
import { assertChangeDate, isNoDate, latestChangeDate } from './changeDate.ts';
import { addToTotals, type ControlTotals } from './controlTotals.ts';
import { BlankKeyError, DuplicateKeyError } from './stagingErrors.ts';
import { changeStamp, recordHash, recordKey, SOURCE_SYSTEM, type SourceCall, type SourceRecord, type StagedRecord } from './stagedRecord.ts';

/** Key fields M3 leaves blank on purpose: DIVI on company-level records. Every other key field must hold a value. */
const KEY_FIELDS_THAT_MAY_BE_BLANK: ReadonlySet<string> = new Set(['DIVI']);

export interface UnitIdentity {
  tenant: string;
  entity: EntityDefinition;
  company: string;
  /** '' for company-scoped entities. */
  division: string;
  runId: string;
  /** ISO-8601 UTC start of the run: the change stamp of snapshot records. */
  runStartedAt: string;
  /**
   * The IANA zone the tenant's M3 writes change dates in: no change date may lie after the run's date there
   * (plus a day). Default UTC: with that day of tolerance, a date that is today in any zone still passes.
   */
  timeZone?: string;
}

/** What survives between invocations: completed files and the running maxima (no records). */
export interface StagerState {
  files: StagedFile[];
  maxChangeStamp: string | null;
  maxChangeDate: string | null;
  startedAt: string;
  /** Control totals of the records staged so far (absent in checkpoints of earlier versions: then none are kept). */
  controlTotals?: ControlTotals;
}

export class UnitStager {
  private readonly files: StagedFile[];
  private maxChangeStamp: string | null;
  private maxChangeDate: string | null;
  private readonly startedAt: string;
  /** Undefined when continuing a checkpoint that did not keep them: totals of part of a unit would be wrong. */
  private readonly controlTotals: ControlTotals | undefined;
  /** The latest change date this run may stage (yyyyMMdd). */
  private readonly latestChangeDate: string;
  private part: PartWriter | undefined;
  /** Keys of the records since the last `forgetKeys()`: a repeat is a duplicate. */
  private readonly keys = new Set<string>();

  constructor(
    private readonly unit: UnitIdentity,
    private readonly store: BlobStore,
    private readonly unitPrefix: string,
    private readonly sourceCall: SourceCall,
    private readonly recordsPerPart = 50_000,
    resume?: StagerState,
  ) {
    this.files = [...(resume?.files ?? [])];
    this.maxChangeStamp = resume?.maxChangeStamp ?? null;
    this.maxChangeDate = resume?.maxChangeDate ?? null;
    this.startedAt = resume?.startedAt ?? new Date().toISOString();
    this.controlTotals = resume ? (resume.controlTotals ? structuredClone(resume.controlTotals) : undefined) : {};
    this.latestChangeDate = latestChangeDate(unit.runStartedAt, unit.timeZone ?? 'UTC');
  }

  get records(): number {
    return this.files.reduce((n, f) => n + f.records, 0) + (this.part?.recordCount ?? 0);
  }

  get fileCount(): number {
    return this.files.length + (this.part ? 1 : 0);
  }

  async add(records: readonly SourceRecord[], extractedAt = new Date().toISOString()): Promise<void> {
    const { entity, company, division } = this.unit;
    const dateField = entity.changeFields.date;
    for (const record of records) {
      const key = recordKey(entity, record);
      const blank = entity.key.find((k) => !KEY_FIELDS_THAT_MAY_BE_BLANK.has(k) && (record[k] ?? '').trim() === '');
      if (blank !== undefined) {
        const call = `${this.sourceCall.program}/${this.sourceCall.transaction}${this.sourceCall.table ? ` on ${this.sourceCall.table}` : ''}`;
        throw new BlankKeyError(
          `${entity.id}, company ${company}${division ? ` division ${division}` : ''}: ${call} returned a record whose key field ${blank} is blank ` +
            `(key ${key}); nothing was staged as complete. Only DIVI may be blank in a key: correct the record in M3, or the entity's key fields ` +
            'in the catalog, then re-run',
        );
      }
      if (this.keys.has(key)) {
        throw new DuplicateKeyError(
          `${entity.id}, company ${company}${division ? ` division ${division}` : ''}: key ${key} was read twice in one extraction; ` +
            "nothing was staged as complete. Check the entity's key fields (they must identify a record uniquely) and re-run",
        );
      }
      this.keys.add(key);
      // The date is checked before it becomes part of the change stamp or the watermark.
      const date = dateField ? record[dateField] : undefined;
      if (entity.strategy === 'incremental' && date !== undefined && !isNoDate(date)) {
        assertChangeDate(date, dateField!, this.latestChangeDate, `${entity.id}, company ${company}${division ? ` division ${division}` : ''}: record ${key}`);
        if (this.maxChangeDate === null || date > this.maxChangeDate) this.maxChangeDate = date;
      }
      if (this.controlTotals) addToTotals(this.controlTotals, entity, record);
      const stamp = changeStamp(entity, record, this.unit.runStartedAt);
      if (this.maxChangeStamp === null || stamp > this.maxChangeStamp) this.maxChangeStamp = stamp;
      const staged: StagedRecord = {
        _tenant: this.unit.tenant,
        _source_system: SOURCE_SYSTEM,
        _entity: entity.id,
        _company: company,
        _division: entity.key.includes('DIVI') ? (record.DIVI ?? division) : division,
        _record_key: key,
        _record_hash: recordHash(record),
        _change_stamp: stamp,
        _run_id: this.unit.runId,
        _extracted_at: extractedAt,
        _source_call: this.sourceCall,
        record,
      };
      if (!this.part) {
        const name = partFileName(this.files.length + 1);
        this.part = new PartWriter(this.store, joinKey(this.unitPrefix, name), name);
      }
      await this.part.write(JSON.stringify(staged));
      if (this.part.recordCount >= this.recordsPerPart) await this.finishPart();
    }
  }

  /** Pagers that only move forward need no memory of earlier pages' keys. */
  forgetKeys(): void {
    this.keys.clear();
  }

  private async finishPart(): Promise<void> {
    const part = this.part;
    this.part = undefined;
    if (part) this.files.push(await part.finish());
  }

  /** Completes the open part file and returns what the next invocation needs to continue. */
  async checkpoint(): Promise<StagerState> {
    await this.finishPart();
    return {
      files: [...this.files], maxChangeStamp: this.maxChangeStamp, maxChangeDate: this.maxChangeDate, startedAt: this.startedAt,
      ...(this.controlTotals ? { controlTotals: structuredClone(this.controlTotals) } : {}),
    };
  }

  /** Writes the last part and the manifest; the unit is complete once the manifest exists. */
  async complete(
    window: ReadWindow, warnings: readonly string[] = [], read: { complete?: boolean; keysOnly?: boolean } = {},
  ): Promise<{ manifest: UnitManifest; manifestKey: string }> {
    await this.finishPart();
    const complete = this.unit.entity.strategy === 'snapshot' || (read.complete === true && window.since === null && window.until === null);
    const { tenant, entity, company, division, runId, runStartedAt } = this.unit;
    const manifest: UnitManifest = {
      formatVersion: 1, tenant, entity: entity.id, company, division, strategy: entity.strategy, window, complete, ...(read.keysOnly === true ? { keysOnly: true } : {}), runId, runStartedAt,
      startedAt: this.startedAt, completedAt: new Date().toISOString(), sourceCall: this.sourceCall, files: [...this.files],
      totalRecords: this.files.reduce((n, f) => n + f.records, 0), maxChangeStamp: this.maxChangeStamp, maxChangeDate: this.maxChangeDate,
      ...(this.controlTotals ? { controlTotals: this.controlTotals } : {}),
      ...(warnings.length > 0 ? { warnings: [...warnings] } : {}),
    };
    const manifestKey = joinKey(this.unitPrefix, MANIFEST_NAME);
    await this.store.put(manifestKey, Readable.from([JSON.stringify(manifest, null, 2)]));
    return { manifest, manifestKey };
  }

  abort(error: Error): void {
    this.part?.abort(error);
    this.part = undefined;
  }
}
