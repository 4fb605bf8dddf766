// What "nothing is lost" means, checked against the warehouse emulator, the watermarks in DynamoDB and the
// CloudSuite emulator's truth:
// - current tables: every live M3 record of every entity and company is there once, not deleted, with its
//   exact record and typed values (amounts compared as CAST(x AS STRING) to M3's string, to the cent);
//   snapshot keys M3 deleted are soft-deleted (_deleted_at set); incremental runs cannot see deletes
//   (M3 has no change stamp for them), so until a reconcile a live row M3 no longer has is accepted only if
//   M3 deleted that key — never a key M3 never had; after a reconcile every key M3 deleted is soft-deleted;
// - history: each version once (no duplicate tenant + record key + record hash, nor the same record
//   content twice); the current version of every live row, and every version a completed load
//   delivered, is in it;
// - watermarks: none ahead of committed data — each mark's change stamp is at most the largest stamp a
//   completed load of that unit by that run staged, and for incremental entities at most the largest
//   _change_stamp in the current table for that tenant and company.
import type { CloudSuiteEmulator, M3Row } from '#emulators/cloudsuite/index.ts';
import type { WarehouseEmulator } from '#emulators/databricks/index.ts';
import { defaultCatalog, DEFAULT_ENTITY_IDS } from '#shared/catalog/defaultCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import type { Watermark, WatermarkKey } from '#shared/state/watermarkStore.ts';

import { M3_SOURCE } from '../support/m3Sources.ts';

export { M3_SOURCE };

export const ENTITIES: EntityDefinition[] = DEFAULT_ENTITY_IDS.map((id) => defaultCatalog.get(id)!);

export function recordKeyOf(entity: EntityDefinition, row: M3Row): string {
  return JSON.stringify(entity.key.map((k) => row[k] ?? ''));
}

function truthRows(emulator: CloudSuiteEmulator, entity: EntityDefinition, company: string): M3Row[] {
  const source = M3_SOURCE[entity.id]!;
  const rows = emulator.truth(source.table, company);
  return source.filter ? rows.filter(source.filter) : rows;
}

/**
 * Every key each entity has had in M3 since the scenario began (call `observe` after every change), so
 * a row M3 deleted can be told from a row that never existed.
 */
export class KeyHistory {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly emulator: CloudSuiteEmulator, private readonly companies: readonly string[]) {
    this.observe();
  }

  observe(): void {
    for (const entity of ENTITIES) {
      const keys = this.seen.get(entity.id) ?? new Set<string>();
      for (const company of this.companies) for (const row of truthRows(this.emulator, entity, company)) keys.add(recordKeyOf(entity, row));
      this.seen.set(entity.id, keys);
    }
  }

  everHad(entity: string, key: string): boolean {
    return this.seen.get(entity)?.has(key) ?? false;
  }
}

/**
 * The largest change stamp each completed load staged, per unit and run (see `loadEvidenceKey`); '' when
 * the unit was loaded without one (a snapshot unit with no records).
 */
export type LoadEvidence = Map<string, string>;

export function loadEvidenceKey(entity: string, company: string, division: string, runId: string): string {
  return `${entity}|${company}|${division}|${runId}`;
}

/** Every record version a completed load delivered (see `versionKey`). */
export type LoadedVersions = Set<string>;

export function versionKey(entity: string, tenant: string, recordKey: string, recordHash: string): string {
  return `${entity}|${tenant}|${recordKey}|${recordHash}`;
}

export interface ConvergenceReport {
  /** Live M3 records missing, soft-deleted, stale or with a wrong typed value, and current versions missing from history. */
  lostRecords: number;
  /** Keys twice in a current table, versions twice in a history table. */
  duplicatedRows: number;
  /** Rows M3 never had, deleted snapshot keys left live, watermarks ahead of committed data. */
  otherProblems: number;
  /** The first problems found, readable. */
  problems: string[];
  /** Live M3 rows compared, watermarks checked, keys M3 deleted found soft-deleted (`_deleted_at` set). */
  checked: { rows: number; watermarks: number; deletedKeys: number };
}

const MAX_LISTED = 25;

/** An exact decimal as text without insignificant zeros ('1234.50' → '1234.5', '-0.00' → '0'); null stays null. */
export function canonicalNumber(value: string | null): string | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(trimmed);
  if (!m) return `not a number: ${trimmed}`;
  const int = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const text = fraction ? `${int}.${fraction}` : int;
  return text === '0' ? '0' : `${m[1]}${text}`;
}

/** M3's yyyyMMdd (0 or blank = no date) as the warehouse prints a DATE. */
function canonicalDate(value: string | null): string | null {
  if (value === null) return null;
  const v = value.trim();
  if (v === '' || /^0+$/.test(v)) return null;
  return /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : v;
}

function typedFields(entity: EntityDefinition) {
  return entity.fields.filter((f) => f.type !== 'A');
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

class Findings {
  lost = 0;
  duplicated = 0;
  other = 0;
  readonly problems: string[] = [];

  add(kind: 'lost' | 'duplicated' | 'other', problem: string): void {
    if (kind === 'lost') this.lost += 1;
    else if (kind === 'duplicated') this.duplicated += 1;
    else this.other += 1;
    if (this.problems.length < MAX_LISTED) this.problems.push(problem);
  }
}

interface CurrentRow {
  tenant: string;
  company: string;
  division: string;
  key: string;
  hash: string;
  stamp: string;
  record: string;
  deletedAt: string | null;
  typed: Record<string, string | null>;
}

async function currentRows(warehouse: WarehouseEmulator, entity: EntityDefinition, table: string): Promise<CurrentRow[]> {
  const typed = typedFields(entity).map((f) => `CAST(\`${f.name.toLowerCase()}\` AS STRING) AS \`t_${f.name.toLowerCase()}\``);
  const rows = await rowsOf(
    warehouse,
    `SELECT _tenant, _company, _division, _record_key, _record_hash, _change_stamp, _record, CAST(_deleted_at AS STRING) AS deleted_at` +
      `${typed.length ? `, ${typed.join(', ')}` : ''} FROM ${table}`,
  );
  return rows.map((r) => ({
    tenant: String(r._tenant),
    company: String(r._company),
    division: String(r._division),
    key: String(r._record_key),
    hash: String(r._record_hash),
    stamp: String(r._change_stamp),
    record: String(r._record),
    deletedAt: text(r.deleted_at),
    typed: Object.fromEntries(typedFields(entity).map((f) => [f.name, text(r[`t_${f.name.toLowerCase()}`])])),
  }));
}

/** Rows of a query on a table that no load has created yet are none. */
async function rowsOf(warehouse: WarehouseEmulator, sql: string): Promise<Record<string, unknown>[]> {
  try {
    return await warehouse.query(sql);
  } catch (error) {
    if (/TABLE_OR_VIEW_NOT_FOUND/.test((error as Error).message)) return [];
    throw error;
  }
}

export interface InvariantInput {
  warehouse: WarehouseEmulator;
  tenant: string;
  watermarks: (WatermarkKey & Watermark)[];
  evidence: LoadEvidence;
  /** catalog.schema of the flows' tables. */
  schema: string;
}

/**
 * What must hold at every moment, faults or not: no key twice in a current table, no version twice in
 * history, no watermark ahead of what a completed load committed.
 */
export async function checkInvariants(input: InvariantInput, findings = new Findings()): Promise<Findings> {
  const maxStamp = new Map<string, string>();
  for (const entity of ENTITIES) {
    const table = `${input.schema}.${entity.id}`;
    const current = await currentRows(input.warehouse, entity, table);
    const keys = new Map<string, number>();
    for (const row of current) {
      const id = `${row.tenant}|${row.key}`;
      keys.set(id, (keys.get(id) ?? 0) + 1);
      const scope = `${entity.id}|${row.tenant}|${row.company}|${entity.scope === 'division' ? row.division : ''}`;
      if ((maxStamp.get(scope) ?? '') < row.stamp) maxStamp.set(scope, row.stamp);
    }
    for (const [id, n] of keys) if (n > 1) findings.add('duplicated', `${entity.id}: key ${id} is ${n} times in the current table`);

    const history = await rowsOf(input.warehouse, `SELECT _tenant, _record_key, _record_hash, _record FROM ${table}_history`);
    const versions = new Map<string, number>();
    const hashesOfContent = new Map<string, Set<string>>();
    for (const row of history) {
      const version = `${String(row._tenant)}|${String(row._record_key)}|${String(row._record_hash)}`;
      versions.set(version, (versions.get(version) ?? 0) + 1);
      const content = `${String(row._tenant)}|${String(row._record_key)}|${String(row._record)}`;
      hashesOfContent.set(content, (hashesOfContent.get(content) ?? new Set()).add(String(row._record_hash)));
    }
    for (const [version, n] of versions) if (n > 1) findings.add('duplicated', `${entity.id}_history: version ${version} is ${n} times`);
    // The same record under two hashes would slip past the version key: one version, stored twice.
    for (const [content, hashes] of hashesOfContent) {
      if (hashes.size > 1) findings.add('duplicated', `${entity.id}_history: the same record content for ${content.split('|').slice(0, 2).join('|')} is there under ${hashes.size} hashes`);
    }
  }

  for (const mark of input.watermarks) {
    if (mark.tenant !== input.tenant) continue;
    const entity = defaultCatalog.get(mark.entity);
    const where = `watermark ${mark.entity}/${mark.company}${mark.division ? `/${mark.division}` : ''} (run ${mark.runId}, ${mark.changeStamp})`;
    const loaded = input.evidence.get(loadEvidenceKey(mark.entity, mark.company, mark.division, mark.runId));
    if (loaded === undefined) findings.add('other', `${where}: no completed load of this unit by that run`);
    // A snapshot unit's watermark holds its run's start time ("last complete snapshot"), not a record stamp.
    if (entity?.strategy === 'incremental') {
      if (loaded !== undefined && loaded < mark.changeStamp) findings.add('other', `${where}: ahead of the largest stamp its run loaded (${loaded || 'none'})`);
      const committed = maxStamp.get(`${mark.entity}|${mark.tenant}|${mark.company}|`);
      if (committed === undefined || committed < mark.changeStamp) {
        findings.add('other', `${where}: ahead of the largest _change_stamp in the current table (${committed ?? 'no rows'})`);
      }
    }
  }
  return findings;
}

export interface ConvergenceInput extends InvariantInput {
  emulator: CloudSuiteEmulator;
  companies: readonly string[];
  keys: KeyHistory;
  /** Versions completed loads delivered: each must be in its history table. */
  versions?: LoadedVersions;
  /** A reconcile ran after CloudSuite's last change: incremental keys M3 deleted must be soft-deleted too. */
  reconciled?: boolean;
}

/** The full check after the faults stopped and the final run committed: invariants plus equality with M3. */
export async function checkConvergence(input: ConvergenceInput): Promise<ConvergenceReport> {
  const findings = await checkInvariants(input);
  let rows = 0;
  let deletedKeys = 0;
  for (const entity of ENTITIES) {
    const table = `${input.schema}.${entity.id}`;
    const current = await currentRows(input.warehouse, entity, table);
    const byKey = new Map(current.filter((r) => r.tenant === input.tenant).map((r) => [r.key, r]));
    const history = new Set(
      (await rowsOf(input.warehouse, `SELECT _record_key, _record_hash FROM ${table}_history WHERE _tenant = '${input.tenant}'`)).map(
        (r) => `${String(r._record_key)}|${String(r._record_hash)}`,
      ),
    );
    const prefix = versionKey(entity.id, input.tenant, '', '').slice(0, -2);
    for (const version of input.versions ?? []) {
      if (!version.startsWith(`${prefix}|`)) continue;
      const [recordKey, hash] = version.slice(prefix.length + 1).split(/\|(?=[^|]*$)/);
      if (!history.has(`${recordKey}|${hash}`)) findings.add('lost', `${entity.id} ${recordKey}: version ${hash?.slice(0, 12)} was loaded but is not in ${entity.id}_history`);
    }
    const inTruth = new Set<string>();
    for (const company of input.companies) {
      for (const row of truthRows(input.emulator, entity, company)) {
        rows += 1;
        const key = recordKeyOf(entity, row);
        inTruth.add(key);
        const loaded = byKey.get(key);
        const where = `${entity.id} ${key}`;
        if (!loaded) {
          findings.add('lost', `${where}: in CloudSuite, missing from the current table`);
          continue;
        }
        if (loaded.deletedAt !== null) {
          findings.add('lost', `${where}: in CloudSuite, but soft-deleted at ${loaded.deletedAt}`);
          continue;
        }
        const expected = Object.fromEntries(entity.fields.map((f) => [f.name, row[f.name] ?? '']));
        const actual = JSON.parse(loaded.record) as Record<string, string>;
        const stale = entity.fields.filter((f) => actual[f.name] !== expected[f.name]);
        if (stale.length > 0) {
          const f = stale[0]!.name;
          findings.add('lost', `${where}: stale (${f} is ${JSON.stringify(actual[f])}, CloudSuite has ${JSON.stringify(expected[f])}; CHNO ${actual.CHNO ?? '?'} vs ${expected.CHNO ?? '?'})`);
          continue;
        }
        const wrong = typedFields(entity).find((f) => {
          const want = f.type === 'N' ? canonicalNumber(row[f.name] ?? '') : canonicalDate(row[f.name] ?? '');
          const got = f.type === 'N' ? canonicalNumber(loaded.typed[f.name] ?? null) : loaded.typed[f.name] ?? null;
          return want !== got;
        });
        if (wrong) {
          findings.add('lost', `${where}: column ${wrong.name.toLowerCase()} is ${JSON.stringify(loaded.typed[wrong.name])} as STRING, CloudSuite has ${JSON.stringify(row[wrong.name])}`);
          continue;
        }
        if (!history.has(`${key}|${loaded.hash}`)) findings.add('lost', `${where}: its current version is not in ${entity.id}_history`);
      }
    }
    for (const row of byKey.values()) {
      if (inTruth.has(row.key)) continue;
      if (row.deletedAt !== null) {
        deletedKeys += 1;
        continue;
      }
      if (!input.keys.everHad(entity.id, row.key)) findings.add('other', `${entity.id} ${row.key}: live in the current table, never in CloudSuite`);
      else if (entity.strategy === 'snapshot') findings.add('other', `${entity.id} ${row.key}: deleted in CloudSuite, still live (snapshot deletes must set _deleted_at)`);
      else if (input.reconciled) findings.add('other', `${entity.id} ${row.key}: deleted in CloudSuite, still live after the reconcile (it must set _deleted_at)`);
      // Until a reconcile, incremental runs cannot see deletes: the row M3 deleted stays live, as documented.
    }
  }
  return {
    lostRecords: findings.lost,
    duplicatedRows: findings.duplicated,
    otherProblems: findings.other,
    problems: findings.problems,
    checked: { rows, watermarks: input.watermarks.length, deletedKeys },
  };
}

export function reportOf(findings: Findings, rows = 0, watermarks = 0): ConvergenceReport {
  return { lostRecords: findings.lost, duplicatedRows: findings.duplicated, otherProblems: findings.other, problems: findings.problems, checked: { rows, watermarks, deletedKeys: 0 } };
}
