// The emulator's M3 database: rows per table and company, kept in primary-key order so list
// transactions and EXPORTMI can position on a key (binary search) instead of scanning.
// Rows are stored sparse (fields never written hold their default) to keep a million rows lean.
import { TABLES, defaultValue, type FieldDef, type TableDef } from './tables.ts';
import type { M3Row } from './types.ts';

/**
 * One key field as a fixed-width, order-preserving string segment: numerics zero-padded (keys are
 * non-negative integers), alpha padded with blanks. Concatenated segments compare like the key tuple.
 */
export function keySegment(field: FieldDef, value: string): string {
  if (field.type === 'A') return value.padEnd(field.length, ' ');
  return (value === '' ? '0' : value).padStart(field.length, '0');
}

/** Whether a value can be turned into a key segment (alpha within length, numeric a plain integer). */
export function isKeyableValue(field: FieldDef, value: string): boolean {
  if (field.type === 'A') return value.length <= field.length;
  return /^\d+$/.test(value) && value.length <= field.length;
}

export class Partition {
  private readonly byKey = new Map<string, M3Row>();
  private sortedKeys: string[] | null = null;
  private sortedRows: M3Row[] | null = null;

  constructor(
    readonly table: TableDef,
    readonly company: string,
  ) {}

  /** The sort key of a row: its key fields after CONO (the partition is the company). */
  keyOf(row: M3Row): string {
    let key = '';
    for (let i = 1; i < this.table.key.length; i++) {
      const field = this.table.field.get(this.table.key[i] as string) as FieldDef;
      key += keySegment(field, row[field.name] ?? defaultValue(field));
    }
    return key;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): M3Row | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  insert(row: M3Row): void {
    const key = this.keyOf(row);
    if (this.byKey.has(key)) throw new Error(`${this.table.name} ${this.company}: duplicate key [${key}]`);
    this.byKey.set(key, row);
    if (this.sortedKeys && this.sortedRows) {
      const at = this.lowerBound(key);
      this.sortedKeys.splice(at, 0, key);
      this.sortedRows.splice(at, 0, row);
    }
  }

  delete(row: M3Row): boolean {
    const key = this.keyOf(row);
    if (!this.byKey.delete(key)) return false;
    if (this.sortedKeys && this.sortedRows) {
      const at = this.lowerBound(key);
      this.sortedKeys.splice(at, 1);
      this.sortedRows.splice(at, 1);
    }
    return true;
  }

  private ensureSorted(): { keys: string[]; rows: M3Row[] } {
    if (!this.sortedKeys || !this.sortedRows) {
      const keys = [...this.byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedKeys = keys;
      this.sortedRows = keys.map((k) => this.byKey.get(k) as M3Row);
    }
    return { keys: this.sortedKeys, rows: this.sortedRows };
  }

  /** Rows in primary-key order (do not mutate the array). */
  rows(): readonly M3Row[] {
    return this.ensureSorted().rows;
  }

  keys(): readonly string[] {
    return this.ensureSorted().keys;
  }

  /** Index of the first row whose key is >= `key`. */
  lowerBound(key: string): number {
    const keys = this.ensureSorted().keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first row whose key is > `key`, or (with `prefixOnly`) does not start with it. */
  upperBound(key: string, prefixOnly = false): number {
    const keys = this.ensureSorted().keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid] as string;
      const after = prefixOnly ? k > key && !k.startsWith(key) : k > key;
      if (after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Rows whose key starts with `prefix`, from `start` (a full or partial key) on. */
  *scan(prefix: string, start: string | null = null, inclusive = true): Generator<M3Row> {
    const { keys, rows } = this.ensureSorted();
    let i = start === null ? this.lowerBound(prefix) : inclusive ? this.lowerBound(start) : this.upperBound(start);
    for (; i < keys.length; i++) {
      if (!(keys[i] as string).startsWith(prefix)) return;
      yield rows[i] as M3Row;
    }
  }
}

export class TableStore {
  private readonly partitions = new Map<string, Partition>();

  constructor(readonly def: TableDef) {}

  partition(company: string): Partition {
    let p = this.partitions.get(company);
    if (!p) {
      p = new Partition(this.def, company);
      this.partitions.set(company, p);
    }
    return p;
  }

  insert(row: M3Row): void {
    const company = row.CONO;
    if (company === undefined) throw new Error(`${this.def.name}: row without CONO`);
    this.partition(company).insert(row);
  }

  delete(row: M3Row): boolean {
    return this.partition(row.CONO as string).delete(row);
  }

  companies(): string[] {
    return [...this.partitions.keys()].sort((a, b) => Number(a) - Number(b));
  }

  get size(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.size;
    return n;
  }
}

export class Database {
  private readonly tables = new Map<string, TableStore>();

  constructor() {
    for (const def of TABLES.values()) this.tables.set(def.name, new TableStore(def));
  }

  table(name: string): TableStore {
    const store = this.tables.get(name);
    if (!store) throw new Error(`no table ${name}`);
    return store;
  }

  get totalRows(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }
}

/** A full row: every field of the table in table order, defaults filled in. */
export function materialize(def: TableDef, row: M3Row): M3Row {
  const out: M3Row = {};
  for (const field of def.fields) out[field.name] = row[field.name] ?? defaultValue(field);
  return out;
}

/** A field's stored value, or its default when never written. */
export function valueOf(row: M3Row, field: FieldDef): string {
  return row[field.name] ?? defaultValue(field);
}
