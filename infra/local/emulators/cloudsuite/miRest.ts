// The M3 MI REST v2 protocol: control parameters (query string or matrix parameters, as Infor's Odin
// SDK sends them), strict validation of inputs against the transaction's definition, the session
// company and division, output formatting (padding, trimming, returncols, excludeempty) and the v2
// response shapes for OK, NOK (HTTP 400, error at top level) and partial NOK (records and an error).
import { findTransaction, MiError, mustBeEntered, notAuthorized, type MiCall, type MiEnvironment, type TransactionDef } from './programs/program.ts';
import type { FieldDef } from './tables.ts';
import { tenantOutputs, tenantTables, type TenantTables } from './tenantTables.ts';
import type { Knobs, M3Row } from './types.ts';
import { canonicalNumber, fitsNumericField, isValidDate, rightTrim } from './values.ts';

export interface MiHttpRequest {
  readonly program: string;
  readonly transaction: string;
  /** Matrix parameters of the transaction path segment (";maxrecs=10;returncols=A,B"). */
  readonly matrix: readonly (readonly [string, string])[];
  readonly query: URLSearchParams;
}

export type MiOutcome =
  | { readonly kind: 'ok'; readonly transaction: string; readonly records: M3Row[]; readonly pretty: boolean }
  | { readonly kind: 'nok'; readonly transaction: string; readonly error: MiError; readonly pretty: boolean };

/** maxrecs when the caller sends none (what Infor's SDK sends by default, too). */
export const DEFAULT_MAXRECS = 100;

/** M3 pads error messages with blanks; clients must trim. */
const ERROR_MESSAGE_LENGTH = 60;

const CONTROL_PARAMETERS = new Set([
  'maxrecs',
  'returncols',
  'cono',
  'divi',
  'dateformat',
  'righttrim',
  'excludeempty',
  // Odin spells it without the second e.
  'excludempty',
  'format',
  'extendedresult',
  'metadata',
]);

/** Cache busters clients add (Odin's _rid); not fields, never validated. */
const IGNORED_QUERY_PARAMETERS = new Set(['_rid']);

interface Controls {
  /** Where `divi` came from: an empty query parameter may be ignored (knob emptyDiviQueryParameter). */
  diviFrom?: 'matrix' | 'query';
  maxrecs?: string;
  returncols?: string;
  cono?: string;
  divi?: string;
  dateformat?: string;
  righttrim?: string;
  excludeempty?: string;
  format?: string;
}

function readControls(request: MiHttpRequest, transaction: TransactionDef): { controls: Controls; inputs: Map<string, string> } {
  const controls: Record<string, string> = {};
  const inputs = new Map<string, string>();
  let diviFrom: Controls['diviFrom'];
  for (const [name, value] of request.matrix) {
    if (!CONTROL_PARAMETERS.has(name)) throw new MiError('XPA0103', name, `Parameter ${name} is not supported`);
    controls[name === 'excludempty' ? 'excludeempty' : name] = value;
    if (name === 'divi') diviFrom = 'matrix';
  }
  for (const [name, value] of request.query) {
    if (CONTROL_PARAMETERS.has(name)) {
      controls[name === 'excludempty' ? 'excludeempty' : name] = value;
      if (name === 'divi') diviFrom = 'query';
      continue;
    }
    if (IGNORED_QUERY_PARAMETERS.has(name)) continue;
    // Any other parameter must be an input field of the transaction, spelled exactly (M3 is strict).
    if (!transaction.inputs.some((f) => f.name === name)) {
      throw new MiError('XFL0103', name, `Field ${name} does not exist in the input of ${request.program}/${transaction.name}`);
    }
    if (!inputs.has(name)) inputs.set(name, value);
  }
  return { controls: { ...controls, ...(diviFrom ? { diviFrom } : {}) }, inputs };
}

/** Validates one input value against its field and returns it as handlers see it. */
function normalizeInput(field: FieldDef, raw: string): string {
  const value = rightTrim(raw);
  if (value === '') return '';
  if (field.type === 'A') {
    if (value.length > field.length) {
      throw new MiError('XLE0101', field.name, `${field.description} (${field.name}) is longer than ${field.length} characters`);
    }
    return value;
  }
  if (field.type === 'D') {
    if (value !== '0' && !isValidDate(value)) throw new MiError('XDT0101', field.name, `${field.description} ${value} is not a valid date (yyyyMMdd)`);
    return value;
  }
  const numeric = canonicalNumber(value);
  if (numeric === null) throw new MiError('XNU0101', field.name, `${field.description} (${field.name}) must be numeric, got ${value}`);
  if (!fitsNumericField(numeric, field.length, field.decimals)) {
    throw new MiError('XLE0102', field.name, `${field.description} (${field.name}) ${value} does not fit ${field.length} digits, ${field.decimals} decimals`);
  }
  return numeric;
}

/**
 * The session division: the `divi` sent, else the service user's default. Infor's own SDK sends it as a
 * matrix parameter (`;divi=`); whether an empty query parameter `divi=` also selects the blank division is
 * not documented, so the emulator can ignore it (knob emptyDiviQueryParameter).
 */
function sessionDivisionOf(controls: Controls, divisions: readonly { divi: string }[], knobs: Knobs): string {
  const sent = controls.divi === undefined ? undefined : rightTrim(controls.divi);
  const ignored = sent === '' && controls.diviFrom === 'query' && knobs.emptyDiviQueryParameter === 'ignored';
  if (sent !== undefined && !ignored) return sent;
  return knobs.userDefaultDivision === 'first' ? (divisions[0]?.divi ?? '') : '';
}

function parseMaxrecs(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_MAXRECS;
  if (!/^\d+$/.test(raw)) throw new MiError('XPA0101', '', `maxrecs must be a non-negative integer, got ${raw}`);
  return Number(raw);
}

function outputFields(transaction: TransactionDef, program: string, returncols: string | undefined, tables: TenantTables): readonly FieldDef[] {
  const outputs = tenantOutputs(transaction, tables);
  if (returncols === undefined || returncols.trim() === '') return outputs;
  return returncols.split(',').map((raw) => {
    const name = raw.trim();
    const field = outputs.find((f) => f.name === name);
    if (!field) throw new MiError('XFL0104', name, `Field ${name} does not exist in the output of ${program}/${transaction.name}`);
    return field;
  });
}

function formatValue(field: FieldDef, raw: string, rightTrimAlpha: boolean): string {
  if (field.type !== 'A') return raw;
  const value = rightTrim(raw).slice(0, field.length);
  return rightTrimAlpha ? value : value.padEnd(field.length, ' ');
}

/** Runs one MI call: every failure M3 would answer as a NOK comes back as an outcome, not a throw. */
export function executeMi(request: MiHttpRequest, env: MiEnvironment): MiOutcome {
  const pretty = (request.query.get('format') ?? request.matrix.find(([n]) => n === 'format')?.[1] ?? '').toUpperCase() === 'PRETTY';
  const program = env.programs.get(request.program);
  if (!program) {
    return { kind: 'nok', transaction: request.transaction, pretty, error: new MiError('XPG0103', '', `Program ${request.program} does not exist`) };
  }
  const transaction = findTransaction(program, request.transaction);
  if (!transaction) {
    return {
      kind: 'nok',
      transaction: request.transaction,
      pretty,
      error: new MiError('XTR0103', '', `Transaction ${request.transaction} does not exist in program ${request.program}`),
    };
  }
  try {
    const { controls, inputs } = readControls(request, transaction);
    if (controls.dateformat !== undefined && controls.dateformat !== 'YMD8') {
      throw new MiError('XPA0102', '', `dateformat ${controls.dateformat} is not supported; use YMD8`);
    }
    const maxrecs = parseMaxrecs(controls.maxrecs);
    const cap = env.knobs.maxrecsCap;
    // Several list transactions stop at 10,000 records whatever maxrecs says (EXPORTMI is not one of them here).
    const listCap = transaction.kind === 'list' && program.name !== 'EXPORTMI' ? env.knobs.listCap : null;
    const limit = Math.min(maxrecs === 0 ? Number.POSITIVE_INFINITY : maxrecs, cap ?? Number.POSITIVE_INFINITY, listCap ?? Number.POSITIVE_INFINITY);
    const outputs = outputFields(transaction, program.name, controls.returncols, tenantTables(env.knobs));

    const values = new Map<string, string>();
    for (const field of transaction.inputs) {
      const raw = inputs.get(field.name);
      values.set(field.name, raw === undefined ? '' : normalizeInput(field, raw));
    }

    const companies = env.data.companies;
    // Without cono the service user's default company (the first) applies.
    const requested = controls.cono === undefined || controls.cono === '' ? undefined : controls.cono;
    const sessionCompany = requested === undefined ? (companies[0]?.cono ?? '') : (canonicalNumber(requested) ?? requested);
    const company = env.data.company(sessionCompany);
    if (!company) throw notAuthorized(sessionCompany);
    const sessionDivision = sessionDivisionOf(controls, company.divisions, env.knobs);
    if (sessionDivision !== '' && !company.divisions.some((d) => d.divi === sessionDivision)) {
      throw new MiError('WDI0103', 'DIVI', `Division ${sessionDivision} does not exist in company ${company.cono}`);
    }
    for (const field of transaction.inputs) {
      if (field.required && values.get(field.name) === '') throw mustBeEntered(field);
    }

    const call: MiCall = {
      program: program.name,
      transaction: transaction.name,
      input: (name) => values.get(name) ?? '',
      company: company.cono,
      division: sessionDivision,
      limit,
      env,
      companyInput() {
        const cono = values.get('CONO') ?? '';
        if (cono === '' || cono === '0') return company.cono;
        if (!env.data.company(cono)) throw notAuthorized(cono);
        return cono;
      },
    };
    // The gateway's cap cuts the whole answer, an EXPORTMI header row included.
    const rows = transaction.run(call).slice(0, cap ?? undefined);

    const rightTrimAlpha = (controls.righttrim ?? '').toLowerCase() === 'true';
    // Without excludeempty=false the server leaves empty fields out of each record.
    const excludeEmpty = (controls.excludeempty ?? '').toLowerCase() !== 'false';
    const records = rows.map((row) => {
      const record: M3Row = {};
      for (const field of outputs) {
        const value = formatValue(field, row[field.name] ?? (field.type === 'A' ? '' : '0'), rightTrimAlpha);
        if (excludeEmpty && rightTrim(value) === '') continue;
        record[field.name] = value;
      }
      return record;
    });
    return { kind: 'ok', transaction: transaction.name, records, pretty };
  } catch (error) {
    if (error instanceof MiError) return { kind: 'nok', transaction: transaction.name, pretty, error };
    throw error;
  }
}

function errorFields(error: MiError) {
  return {
    errorMessage: error.message.padEnd(ERROR_MESSAGE_LENGTH, ' '),
    errorType: 'ServerReturnedNOK',
    errorCode: error.code,
    errorCfg: '',
    errorField: error.field,
  };
}

function json(body: unknown, pretty: boolean): string {
  return pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
}

/** The HTTP answer of an outcome: 200 with results, or 400 with the NOK at top level. */
export function renderMi(outcome: MiOutcome): { status: number; body: string } {
  if (outcome.kind === 'nok') {
    return {
      status: 400,
      body: json({ ...errorFields(outcome.error), wasTerminated: false, nrOfSuccessfullTransactions: 0, nrOfFailedTransactions: 1 }, outcome.pretty),
    };
  }
  return {
    status: 200,
    body: json(
      {
        results: [{ transaction: outcome.transaction, records: outcome.records }],
        wasTerminated: false,
        nrOfSuccessfullTransactions: 1,
        nrOfFailedTransactions: 0,
      },
      outcome.pretty,
    ),
  };
}

/**
 * A list that failed part-way (Infor KB 2159861): HTTP 200, the first part of the records and an
 * error in the same result. Clients must treat the whole page as failed.
 */
export function renderPartialNok(outcome: MiOutcome & { kind: 'ok' }): { status: number; body: string } {
  const error = new MiError('XRE0104', '', 'Error while reading records, list interrupted');
  return {
    status: 200,
    body: json(
      {
        results: [{ transaction: outcome.transaction, records: outcome.records.slice(0, Math.ceil(outcome.records.length / 2)), ...errorFields(error) }],
        wasTerminated: false,
        nrOfSuccessfullTransactions: 0,
        nrOfFailedTransactions: 1,
      },
      outcome.pretty,
    ),
  };
}
