// What the last look at a target table established (its tables, columns, comments, properties, view and the
// schema's control-totals table are today's), remembered in the staging store per workspace and table so that a
// steady-state load sends no SHOW/DESCRIBE at all. A load trusts the memory only while the entity's shape is the
// same (a fingerprint of everything the look brings in line) and for a day: the daily look still drops working
// tables other writers abandoned and repairs drift made behind the loader's back. A statement failing because a
// table or column is not what the memory says (SHAPE_CHANGED below) forgets it, so the retried load looks again.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { joinKey, type BlobStore } from '../staging/blobStore.ts';
import { viewFingerprint } from './businessView.ts';
import type { TargetTable } from './loadTypes.ts';
import { tableColumns } from './tableColumns.ts';
import { tableCommentFingerprint } from './tableDescriptions.ts';
import { targetTableProperties } from './tableLayout.ts';

/** Outside runs/ and plans/: the bucket's lifecycle rules do not expire it (each look rewrites it). */
export const REMEMBERED_LOOKS_PREFIX = '_warehouse';
/** A remembered look older than this is not trusted: the load looks again (and drops abandoned working tables). */
export const LOOK_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Bumped when the look starts to bring something new in line, so that every table is looked at again. */
const LOOK_VERSION = 1;

/**
 * Errors of a statement that found a table, schema or column other than the loader expected (Databricks error
 * classes, docs.databricks.com/error-messages): TABLE_OR_VIEW_NOT_FOUND (42P01), SCHEMA_NOT_FOUND (42704),
 * UNRESOLVED_COLUMN (42703), DELTA_MERGE_UNRESOLVED_EXPRESSION, DELTA_COLUMN_NOT_FOUND_IN_SCHEMA,
 * DELTA_METADATA_MISMATCH (42KDG, schema mismatch on write), DELTA_SCHEMA_CHANGED, DELTA_TABLE_NOT_FOUND,
 * INCOMPATIBLE_TABLE_CHANGE_AFTER_ANALYSIS (51024).
 */
export const SHAPE_CHANGED =
  /\b(TABLE_OR_VIEW_NOT_FOUND|SCHEMA_NOT_FOUND|UNRESOLVED_COLUMN|DELTA_MERGE_UNRESOLVED_EXPRESSION|DELTA_COLUMN_NOT_FOUND_IN_SCHEMA|DELTA_METADATA_MISMATCH|DELTA_SCHEMA_CHANGED|DELTA_TABLE_NOT_FOUND|INCOMPATIBLE_TABLE_CHANGE_AFTER_ANALYSIS)\b/;

export function isShapeChanged(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (SHAPE_CHANGED.test(String((e as Error).message ?? ''))) return true;
  }
  return false;
}

/** Everything the look brings in line for this entity and table: a different value means look again. */
export function lookFingerprint(entity: EntityDefinition, table: TargetTable): string {
  const shape = {
    version: LOOK_VERSION,
    columns: tableColumns(entity).map((c) => [c.name, c.type, c.comment ?? null]),
    comments: ['', '_history'].map((suffix) => tableCommentFingerprint(entity, table.name, suffix)),
    properties: targetTableProperties(entity),
    view: viewFingerprint(entity, table),
    controlTotalsTable: true,
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}

/** `_warehouse/<workspace host>/<catalog>.<schema>.<table>.json` (tables are the workspace's, whichever warehouse). */
export function rememberedLookKey(workspace: string, table: TargetTable): string {
  return joinKey(REMEMBERED_LOOKS_PREFIX, workspaceFolder(workspace), `${table.catalog}.${table.schema}.${table.name}.json`);
}

/** The folder of one workspace's objects under REMEMBERED_LOOKS_PREFIX: its host, made a safe key segment. */
export function workspaceFolder(workspace: string | undefined): string {
  return (workspace ?? 'unnamed-workspace').toLowerCase().replace(/[^a-z0-9.:-]/g, '_').replaceAll(':', '_');
}

interface RememberedLook {
  fingerprint: string | null;
  lookedAt: string;
}

async function read(store: BlobStore, key: string): Promise<RememberedLook | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<RememberedLook>;
  return typeof value.lookedAt === 'string' && (typeof value.fingerprint === 'string' || value.fingerprint === null) ? (value as RememberedLook) : undefined;
}

/**
 * Whether a look with this fingerprint was made less than a day ago. Anything else (no entry, a damaged or
 * unreadable one, one forgotten after a failure) means look: the memory only ever saves statements.
 */
export async function lookIsRemembered(store: BlobStore, key: string, fingerprint: string, nowMs: number): Promise<boolean> {
  const entry = await read(store, key).catch(() => undefined);
  if (!entry || entry.fingerprint !== fingerprint) return false;
  const age = nowMs - Date.parse(entry.lookedAt);
  return age >= 0 && age < LOOK_MAX_AGE_MS;
}

export async function rememberLook(store: BlobStore, key: string, fingerprint: string | null, at: Date): Promise<void> {
  await store.put(key, Readable.from([Buffer.from(JSON.stringify({ fingerprint, lookedAt: at.toISOString() } satisfies RememberedLook))]));
}

/** The store has no delete: an entry without fingerprint is never trusted, so the next load looks. */
export async function forgetLook(store: BlobStore, key: string, at: Date): Promise<void> {
  await rememberLook(store, key, null, at);
}
