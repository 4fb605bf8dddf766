// Pages an M3 table through EXPORTMI/Select with a key cursor made of AND-only conditions.
// For a key (k1..kn) and a cursor at the last row read (c1..cn), level L asks for
// k1 = c1 and ... and k(L-1) = c(L-1) and kL > cL: it pages within the current leading-key value
// before moving past it. A page with rows moves the cursor and returns to the deepest level; an
// empty page moves one level up; an empty page at level 1 ends the read.
// Every row is checked against the conditions asked for and for key order, so a server that ignores
// a condition or returns rows unordered fails loudly instead of silently skipping records.
// A sub-unit of a split backfill adds its key range as conditions; rows outside it (a tenant that ignores a
// condition) belong to sibling sub-units and are dropped here after the checks, never staged twice.
// A page the gateway cannot answer in time (504, or an attempt timeout: EXPORTMI is slow without a
// supporting index) is asked for again at half the size, down to the entity's minPageSize, and the size
// grows back after successes; it travels in the cursor, so a continuation keeps it.
import type { EntityDefinition, ExportMiSource, FieldDefinition } from '../../catalog/entityDefinition.ts';
import { MiSlowAnswerError, TransientError } from '../../m3/miErrors.ts';
import type { MiRecord } from '../../m3/miTypes.ts';
import type { Log } from '../../observability/logger.ts';
import type { Deadline } from '../../runtime/deadline.ts';
import { assertCursorValuesFit } from '../cursorValues.ts';
import { CursorStuckError, ExportResultError, ReadCapReachedError, SlowSourceError } from '../extractErrors.ts';
import { inKeyRange } from '../keyRange.ts';
import { compareFieldValues, compareKeys } from '../keyOrder.ts';
import type { MiExecutor } from '../miExecutor.ts';
import type { Page, PagedReadRequest } from '../pagedRead.ts';
import { buildSelect, type Condition } from './exportQuery.ts';
import { DEFAULT_SEPARATORS, planColumnGroups, splitBySeparator, splitFixedWidth } from './replFormat.ts';

const MAX_GROUP_RETRIES = 3;

/** Pages answered in time, in a row, before a shrunken page size doubles again. */
const GROW_AFTER_PAGES = 3;

type SlowAnswers = 'retry' | 'hand-back';

interface Cursor {
  values: Record<string, string> | null;
  level: number;
  /** The page size in use (smaller than the entity's after slow pages); absent in cursors of older runs. */
  pageSize?: number;
  /**
   * Look-ahead: ask for `kL >= cL` (within k1..k(L-1) = c1..c(L-1)) instead of the strict deepest
   * level, so one call finishes the current small group and continues past it. The rows of that group
   * already read come first and are dropped; any row after them is a contiguous successor of the
   * cursor, so this saves calls without relying on page sizes. With no new row it falls back to the
   * strict levels.
   */
  ahead?: boolean;
}

function holds(cond: Condition, value: string): boolean {
  const c = compareFieldValues(cond.field, value, cond.value);
  switch (cond.op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}

class ExportReader {
  private readonly fieldsByName: Map<string, FieldDefinition>;
  readonly cursorFields: FieldDefinition[];
  private readonly groups: FieldDefinition[][];
  private preferredSeparator = 0;
  readonly label: string;

  constructor(
    private readonly mi: MiExecutor,
    readonly entity: EntityDefinition,
    readonly source: ExportMiSource,
    readonly company: string,
    private readonly deadline: Deadline,
  ) {
    this.fieldsByName = new Map(entity.fields.map((f) => [f.name, f]));
    const field = (name: string) => this.fieldsByName.get(name)!;
    // CONO is the session company; DIVI is fixed by a condition for division-scoped units.
    this.cursorFields = entity.key
      .filter((k) => k !== 'CONO' && !(entity.scope === 'division' && k === 'DIVI'))
      .map(field);
    const counter = entity.changeFields.counter;
    const always = entity.key.map(field);
    if (counter && !entity.key.includes(counter)) always.push(field(counter));
    this.groups = planColumnGroups(entity.fields, always);
    this.label = `EXPORTMI/Select on ${source.table} (company ${company})`;
  }

  field(name: string): FieldDefinition {
    const f = this.fieldsByName.get(name);
    if (!f) throw new Error(`entity ${this.entity.id} has no field ${name}`);
    return f;
  }

  /** Reads one page: every column group with the same conditions, joined row by row. */
  async readPage(conditions: Condition[], maxRecords: number, slowAnswers: SlowAnswers = 'retry'): Promise<MiRecord[]> {
    for (let attempt = 1; ; attempt++) {
      const parts = [];
      for (const group of this.groups) parts.push(await this.readGroup(group, conditions, maxRecords, slowAnswers));
      const joined = this.join(parts);
      if (joined) return joined;
      if (attempt >= MAX_GROUP_RETRIES) {
        throw new ExportResultError(
          `${this.label}: column groups disagreed ${attempt} times (rows changed between the calls of one page); retry the run later`,
        );
      }
    }
  }

  private join(parts: MiRecord[][]): MiRecord[] | undefined {
    const [first, ...rest] = parts;
    if (!first) return [];
    const counter = this.entity.changeFields.counter;
    const checked = [...this.entity.key, ...(counter ? [counter] : [])];
    for (const other of rest) {
      if (other.length !== first.length) return undefined;
      for (let i = 0; i < first.length; i++) {
        const a = first[i]!;
        const b = other[i]!;
        if (checked.some((f) => a[f] !== b[f])) return undefined;
        Object.assign(a, b);
      }
    }
    return first;
  }

  private async readGroup(columns: FieldDefinition[], conditions: Condition[], maxRecords: number, slowAnswers: SlowAnswers): Promise<MiRecord[]> {
    const query = buildSelect(this.source.table, this.source.prefix, columns, conditions);
    const separators = this.source.separators ?? DEFAULT_SEPARATORS;
    const order = [...separators.keys()];
    order.unshift(...order.splice(this.preferredSeparator, 1));
    for (const index of order) {
      const separator = separators[index]!;
      const rows = await this.select(query, separator, maxRecords, slowAnswers);
      const parsed = this.parse(rows, columns, (repl) => splitBySeparator(repl, separator, columns));
      if (parsed) {
        this.preferredSeparator = index;
        return parsed;
      }
    }
    const rows = await this.select(query, '', maxRecords, slowAnswers);
    const parsed = this.parse(rows, columns, (repl) => splitFixedWidth(repl, columns));
    if (parsed) return parsed;
    throw new ExportResultError(`${this.label}: rows could not be split into ${columns.length} fields with any separator or fixed width`);
  }

  private parse(rows: MiRecord[], columns: FieldDefinition[], split: (repl: string) => string[] | undefined): MiRecord[] | undefined {
    const out: MiRecord[] = [];
    for (const row of rows) {
      const repl = row.REPL;
      if (repl === undefined) throw new ExportResultError(`${this.label}: a row has no REPL field`);
      const values = split(repl);
      if (!values) return undefined;
      out.push(Object.fromEntries(columns.map((c, i) => [c.name, values[i]!])));
    }
    return out;
  }

  private async select(query: string, separator: string, maxRecords: number, slowAnswers: SlowAnswers): Promise<MiRecord[]> {
    const inputs: Record<string, string> = { QERY: query, HDRS: '0' };
    if (separator) inputs.SEPC = separator;
    // The session division stays blank: M3 honours division conditions only there.
    const response = await this.mi.execute(
      { program: 'EXPORTMI', transaction: 'Select', inputs, maxRecords, company: this.company, division: '' },
      { deadline: this.deadline, slowAnswers },
    );
    return response.records;
  }

  /**
   * Refuses rows the server should not have returned: outside the conditions, or (when paging by
   * key, `ordered`) not strictly after the previous row.
   */
  verify(rows: MiRecord[], conditions: Condition[], ordered: { after: Record<string, string> | null } | undefined): void {
    let previous = ordered?.after ?? null;
    for (const row of rows) {
      for (const cond of conditions) {
        if (!holds(cond, row[cond.field.name] ?? '')) {
          throw new ExportResultError(
            `${this.label} returned a row with ${cond.field.name}=${JSON.stringify(row[cond.field.name])} although the query asked for ` +
              `${cond.field.name} ${cond.op} ${JSON.stringify(cond.value)}; the server ignored a condition, so paging cannot be trusted ` +
              '(for division conditions the session division must be blank)',
          );
        }
      }
      if (ordered && previous && compareKeys(this.cursorFields, row, previous) <= 0) {
        throw new ExportResultError(
          `${this.label} returned rows out of primary-key order, so key paging could skip records; ` +
            `set the entity's source.paging to "single-call" to read each unit in one call`,
        );
      }
      previous = row;
    }
  }
}

function windowConditions(reader: ExportReader, req: PagedReadRequest): Condition[] {
  const conditions: Condition[] = [];
  const dateField = reader.entity.changeFields.date;
  if (reader.entity.strategy === 'incremental' && dateField) {
    if (req.window.since) conditions.push({ field: reader.field(dateField), op: '>=', value: req.window.since });
    if (req.window.until) conditions.push({ field: reader.field(dateField), op: '<=', value: req.window.until });
  }
  if (reader.entity.scope === 'division') conditions.push({ field: reader.field('DIVI'), op: '=', value: req.division });
  return conditions;
}

/** A sub-unit's key range as conditions (asked for, but not relied on: see inRange). */
function rangeConditions(reader: ExportReader, req: PagedReadRequest): Condition[] {
  const range = req.range;
  if (!range) return [];
  const field = reader.field(range.field);
  return [
    ...(range.from !== null ? [{ field, op: '>=' as const, value: range.from }] : []),
    ...(range.to !== null ? [{ field, op: '<' as const, value: range.to }] : []),
  ];
}

/** Keeps the rows of the sub-unit's range: the others are its siblings' (the tenant ignored the condition). */
function inRange(reader: ExportReader, req: PagedReadRequest, rows: MiRecord[]): MiRecord[] {
  const range = req.range;
  if (!range) return rows;
  const type = reader.field(range.field).type;
  return rows.filter((r) => inKeyRange(range, type, r[range.field] ?? ''));
}

function cursorConditions(fields: FieldDefinition[], cursor: Cursor): Condition[] {
  if (!cursor.values) return [];
  const values = cursor.values;
  return fields.slice(0, cursor.level).map((field, i) => ({
    field,
    op: i === cursor.level - 1 ? (cursor.ahead ? '>=' : '>') : '=',
    value: values[field.name] ?? '',
  }));
}

/**
 * The shallowest level whose group (rows sharing k1..kL with the last row) started inside this
 * page: re-reading that group's seen rows costs less than a page. Undefined when there is none.
 */
function lookAheadLevel(fields: FieldDefinition[], rows: Record<string, string>[]): number | undefined {
  const last = rows.at(-1)!;
  for (let level = 1; level < fields.length; level++) {
    const prefix = fields.slice(0, level);
    const sharing = rows.filter((r) => prefix.every((f) => r[f.name] === last[f.name])).length;
    if (sharing < rows.length) return level;
  }
  return undefined;
}

export async function* pageExportMi(req: PagedReadRequest): AsyncGenerator<Page> {
  const { entity } = req;
  const source = entity.source;
  if (source.kind !== 'exportmi') throw new Error(`entity ${entity.id} is not an EXPORTMI entity`);
  const reader = new ExportReader(req.mi, entity, source, req.company, req.deadline);
  const base = windowConditions(reader, req);
  const asked = [...base, ...rangeConditions(reader, req)];

  // A key made only of the company (or company and a fixed division) leaves nothing to page on.
  if (source.paging === 'single-call' || reader.cursorFields.length === 0) {
    if (req.resumeFrom?.done) return;
    const rows = await reader.readPage(asked, 0);
    if (rows.length >= entity.singleCallCap) {
      throw new ReadCapReachedError(
        `${reader.label} returned ${rows.length} rows in one call, the entity's singleCallCap (${entity.singleCallCap}): the result may have been ` +
          `cut short, so nothing was staged; set entity "${entity.id}"'s source.paging to "key-cursor" if the server returns rows in key order, ` +
          'or raise singleCallCap only if the server is known to return more in one call',
      );
    }
    reader.verify(rows, base, undefined);
    yield { records: inRange(reader, req, rows), cursor: { done: true } };
    return;
  }

  const depth = reader.cursorFields.length;
  let cursor: Cursor = (req.resumeFrom as Cursor | undefined) ?? { values: null, level: depth };
  const pageSize = new PageSize(entity, cursor.pageSize, reader.label, req.log);
  for (;;) {
    const conditions = [...base, ...cursorConditions(reader.cursorFields, cursor)];
    const page = await pageSize.read((size, slowAnswers) => reader.readPage([...conditions, ...rangeConditions(reader, req)], size, slowAnswers));
    let rows = page;
    if (cursor.ahead && cursor.values) {
      reader.verify(page, conditions, { after: null });
      const after = cursor.values;
      rows = page.filter((r) => compareKeys(reader.cursorFields, r, after) > 0);
      if (rows.length === 0) {
        cursor = { values: after, level: depth, pageSize: pageSize.current };
        continue;
      }
      // The seen rows must all come before the new ones (checked by the ordered verify above).
    } else {
      reader.verify(page, conditions, { after: cursor.values });
    }
    const last = rows.at(-1);
    if (!last) {
      if (!cursor.values || cursor.level <= 1) return;
      cursor = { values: cursor.values, level: cursor.level - 1, pageSize: pageSize.current };
      continue;
    }
    const values = Object.fromEntries(reader.cursorFields.map((f) => [f.name, last[f.name] ?? '']));
    assertCursorValuesFit(reader.label, reader.cursorFields, values);
    if (cursor.values && reader.cursorFields.every((f) => values[f.name] === cursor.values![f.name])) {
      throw new CursorStuckError(`${reader.label}: the key cursor did not advance past ${JSON.stringify(values)}`);
    }
    const ahead = lookAheadLevel(reader.cursorFields, rows);
    cursor = ahead === undefined ? { values, level: depth } : { values, level: ahead, ahead: true };
    cursor.pageSize = pageSize.current;
    // The cursor moves past every row read; only the range's rows are staged.
    yield { records: inRange(reader, req, rows), cursor: { ...cursor } };
  }
}

/**
 * The page size of one key-cursor read. Above the floor a slow answer is handed back at once and the page
 * halves; at the floor the retry policy decides, and a page that still does not come fails with advice.
 * After GROW_AFTER_PAGES pages in a row answered in time it doubles, up to the entity's page size.
 */
class PageSize {
  current: number;
  private readonly floor: number;
  private inTime = 0;

  constructor(
    private readonly entity: EntityDefinition,
    resumed: number | undefined,
    private readonly label: string,
    private readonly log: Log | undefined,
  ) {
    this.floor = Math.min(entity.minPageSize, entity.pageSize);
    this.current = Math.min(entity.pageSize, Math.max(this.floor, resumed ?? entity.pageSize));
  }

  async read(page: (size: number, slowAnswers: SlowAnswers) => Promise<MiRecord[]>): Promise<MiRecord[]> {
    for (;;) {
      const atFloor = this.current <= this.floor;
      try {
        const rows = await page(this.current, atFloor ? 'retry' : 'hand-back');
        this.answeredInTime();
        return rows;
      } catch (error) {
        if (error instanceof MiSlowAnswerError && !atFloor) {
          const smaller = Math.max(this.floor, Math.floor(this.current / 2));
          this.log?.warn('EXPORTMI page too slow for the gateway; asking for a smaller page', {
            entity: this.entity.id, table: this.label, pageSize: this.current, next: smaller, reason: error.message,
          });
          this.current = smaller;
          this.inTime = 0;
          continue;
        }
        if (atFloor && isSlowAnswer(error)) throw this.tooSlow(error);
        throw error;
      }
    }
  }

  private answeredInTime(): void {
    if (this.current >= this.entity.pageSize || ++this.inTime < GROW_AFTER_PAGES) return;
    const larger = Math.min(this.entity.pageSize, this.current * 2);
    this.log?.info('EXPORTMI pages answer in time again; growing the page', { entity: this.entity.id, pageSize: this.current, next: larger });
    this.current = larger;
    this.inTime = 0;
  }

  private tooSlow(cause: unknown): SlowSourceError {
    const { entity } = this;
    const date = entity.changeFields.date;
    return new SlowSourceError(
      `${this.label}: pages of ${this.current} rows still time out at the gateway (HTTP 504 or no answer within the attempt timeout), ` +
        'so EXPORTMI has no fast way to this query: ' +
        `ask the M3 administrator for an index on ${entity.source.kind === 'exportmi' ? entity.source.table : entity.id}` +
        `${date ? ` starting with ${date}` : ''}, raise the gateway's target timeout by an API policy (up to 300 s) together with the tenant's ` +
        `attemptTimeoutSeconds, lower the entity's minPageSize (now ${this.floor}), or read it in narrower windows (a backfill with since/until)`,
      { cause },
    );
  }
}

/** A retry policy that gave up on 504s or timeouts (TransientError whose last failure was one of those). */
function isSlowAnswer(error: unknown): boolean {
  if (error instanceof MiSlowAnswerError) return true;
  if (!(error instanceof TransientError)) return false;
  return error.lastStatus === 504 || (error.lastStatus === undefined && /timed out/.test(String((error.cause as Error | undefined)?.message)));
}
