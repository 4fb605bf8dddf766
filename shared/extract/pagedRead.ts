// The shape every pager shares: pages of records, each followed by a cursor from which a later
// invocation can continue (JSON-serialisable, so it can travel in a Step Functions checkpoint).
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import type { MiRecord } from '../m3/miTypes.ts';
import type { Log } from '../observability/logger.ts';
import type { Deadline } from '../runtime/deadline.ts';
import type { ReadWindow } from '../staging/manifest.ts';
import type { KeyRange } from './keyRange.ts';
import type { MiExecutor } from './miExecutor.ts';

export type PageCursor = Record<string, unknown>;

export interface Page {
  records: MiRecord[];
  /** Where to continue after this page; undefined on the last page. */
  cursor: PageCursor;
}

export interface PagedReadRequest {
  mi: MiExecutor;
  entity: EntityDefinition;
  company: string;
  /** '' for company-scoped entities. */
  division: string;
  window: ReadWindow;
  /** A sub-unit's key range (EXPORTMI only): only rows inside it are read and staged. */
  range?: KeyRange;
  deadline: Deadline;
  /** Continue after this cursor (from an earlier page); start from the beginning when absent. */
  resumeFrom?: PageCursor;
  log?: Log;
}
