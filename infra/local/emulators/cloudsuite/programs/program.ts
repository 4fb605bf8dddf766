// How an emulated MI program is described: transactions with typed inputs and outputs (taken from the
// table metadata, so MI, EXPORTMI and MRS001MI metadata agree) and a handler producing records.
import type { Dataset } from '../dataset.ts';
import { valueOf } from '../store.ts';
import { fieldOf, parseFields, tableDef, type FieldDef } from '../tables.ts';
import type { Knobs, M3Row } from '../types.ts';

export interface InputField extends FieldDef {
  readonly required: boolean;
}

export interface TransactionDef {
  readonly name: string;
  readonly description: string;
  /** 'get' answers one record (NOK when not found); 'list' pages by maxrecs. */
  readonly kind: 'get' | 'list';
  readonly inputs: readonly InputField[];
  readonly outputs: readonly FieldDef[];
  run(call: MiCall): M3Row[];
}

export interface ProgramDef {
  readonly name: string;
  readonly description: string;
  readonly transactions: readonly TransactionDef[];
}

export type ProgramRegistry = ReadonlyMap<string, ProgramDef>;

export interface MiEnvironment {
  readonly data: Dataset;
  readonly knobs: Knobs;
  readonly programs: ProgramRegistry;
}

/** One validated MI call as a handler sees it. */
export interface MiCall {
  readonly program: string;
  readonly transaction: string;
  /** The input's value: right-trimmed alpha, canonical numeric; '' when not sent or blank. */
  input(name: string): string;
  /** Session company (the `cono` parameter, else the service user's default). Already authorised. */
  readonly company: string;
  /** Session division (the `divi` parameter, else blank = company level). */
  readonly division: string;
  /** Rows to return at most (maxrecs after the server cap); Infinity for all. */
  readonly limit: number;
  readonly env: MiEnvironment;
  /** The company a transaction works on: its CONO input, else the session company (NOK XAU0008 if not authorised). */
  companyInput(): string;
}

/** An MI NOK: M3 answers it with errorCode, errorField and errorMessage. */
export class MiError extends Error {
  override name = 'MiError';
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// --- NOKs with M3's message-id conventions (W + 2 letters of the field + 0102 / 0103) ---------------

export function mustBeEntered(field: FieldDef): MiError {
  return new MiError(`W${field.name.slice(0, 2)}0102`, field.name, `${field.description} must be entered`);
}

export function doesNotExist(field: FieldDef, value: string): MiError {
  return new MiError(`W${field.name.slice(0, 2)}0103`, field.name, `${field.description} ${value} does not exist`);
}

export function notAuthorized(company: string): MiError {
  return new MiError('XAU0008', 'CONO', `You are not authorized to company ${company}`);
}

// --- field helpers ----------------------------------------------------------------------------------

/** Fields of a table by name, e.g. fieldsOf('CIDMAS', 'CONO SUNO SUNM'). */
export function fieldsOf(table: string, names: string): FieldDef[] {
  const def = tableDef(table);
  return names
    .split(/\s+/)
    .filter((n) => n !== '')
    .map((n) => fieldOf(def, n));
}

/** Fields that are not table columns, in the tables' "NAME TYPE LENGTH Description" notation. */
export function ownFields(spec: string): FieldDef[] {
  return parseFields(spec);
}

export function required(...fields: FieldDef[]): InputField[] {
  return fields.map((f) => ({ ...f, required: true }));
}

export function optional(...fields: FieldDef[]): InputField[] {
  return fields.map((f) => ({ ...f, required: false }));
}

/** The output fields of a stored row (fields not in the row default: blank / 0). */
export function project(row: M3Row, outputs: readonly FieldDef[]): M3Row {
  const out: M3Row = {};
  for (const field of outputs) out[field.name] = valueOf(row, field);
  return out;
}

/** Up to `limit` projected rows. */
export function take<T>(rows: Iterable<T>, limit: number, map: (row: T) => M3Row, filter?: (row: T) => boolean): M3Row[] {
  const out: M3Row[] = [];
  if (limit <= 0) return out;
  for (const row of rows) {
    if (filter && !filter(row)) continue;
    out.push(map(row));
    if (out.length >= limit) break;
  }
  return out;
}

export function findTransaction(program: ProgramDef, name: string): TransactionDef | undefined {
  return program.transactions.find((t) => t.name === name);
}
