// The tenant half of `check`: proves, for every configured flow (or the chosen ones) and company, what the
// first run would meet on this tenant, before it runs: a token, the company's divisions, the entity's fields
// against the tenant's metadata, whether a blank-division session honours division conditions (and in
// which form the tenant takes the blank division), EXPORTMI's key order over a small key range, a doubled
// quote in a string literal, the number format in REPL, and the time of one page. Each flow × company ends
// ok (it would run), warn (it would run; read the note) or fail (it would not; the note says what to do).
import type { EntityDefinition, FieldDefinition } from '../../shared/catalog/entityDefinition.ts';
import type { CloudSuiteConnection } from '../../shared/cloudsuite/cloudSuiteConnection.ts';
import type { FlowConfig, ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';
import { buildSelect, type Condition } from '../../shared/extract/exportMi/exportQuery.ts';
import { pageExportMi } from '../../shared/extract/exportMi/exportMiPager.ts';
import { splitBySeparator } from '../../shared/extract/exportMi/replFormat.ts';
import { compareFieldValues, compareKeys } from '../../shared/extract/keyOrder.ts';
import type { MiExecutor } from '../../shared/extract/miExecutor.ts';
import { pageMiList } from '../../shared/extract/miListPager.ts';
import { resolveEntity, type EntityResolution } from '../../shared/extract/resolveEntity.ts';
import { readCheckedEntityFields } from '../../shared/extract/checkedTenantFields.ts';
import { MiError } from '../../shared/m3/miErrors.ts';
import type { MiRequest } from '../../shared/m3/miTypes.ts';
import { Deadline } from '../../shared/runtime/deadline.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One flow for one company: would it run, and what to do. */
export interface FlowCheck {
  flow: string;
  entity: string;
  company: string;
  status: CheckStatus;
  notes: string[];
  /** What was seen, for a flow that needs nothing done: its fields and the time of one page. */
  info?: string;
}

/** A tenant-wide or company-wide finding, printed before the table. */
export interface PreflightLine {
  status: CheckStatus;
  label: string;
  detail: string;
}

/** How the tenant takes the blank session division, per form: honoured, ignored, or not verifiable. */
export type DivisionForm = 'honoured' | 'ignored' | 'not verifiable';

export interface PreflightReport {
  tenant: string;
  lines: PreflightLine[];
  flows: FlowCheck[];
  /** Per company: what a blank division sent as a matrix parameter (what the product sends) and as a query parameter does. */
  blankDivision: Record<string, { matrix: DivisionForm; query: DivisionForm }>;
}

export interface PreflightOptions {
  config: ValidatedFlowsConfig;
  connection: CloudSuiteConnection;
  /** Flow ids to check (default: every enabled flow of the tenant). */
  flows?: string[];
  /** Companies to check instead of each flow's own. */
  companies?: string[];
  /** One page slower than this is a warning (real ms). */
  slowPageMs?: number;
  now?: () => number;
}

/** A page of EXPORTMI slower than this risks the gateway's 60 s timeout on a busier day. */
export const SLOW_PAGE_MS = 20_000;
const SEPARATOR = '¤';
const worst = (a: CheckStatus, b: CheckStatus): CheckStatus => (a === 'fail' || b === 'fail' ? 'fail' : a === 'warn' || b === 'warn' ? 'warn' : 'ok');

/** The flows a check covers: the chosen ones, or every enabled flow of this tenant (or of the configuration when the tenant has none). */
export function flowsToCheck(config: ValidatedFlowsConfig['config'], tenant: string, chosen: string[] | undefined): { flows: FlowConfig[]; note?: string } {
  if (chosen) return { flows: config.flows.filter((f) => chosen.includes(f.id)) };
  const own = config.flows.filter((f) => f.enabled && f.tenant === tenant);
  if (own.length > 0) return { flows: own };
  return {
    flows: config.flows.filter((f) => f.enabled),
    note: `tenant ${tenant} has no flows in the configuration: checking every configured flow as if it were this tenant's`,
  };
}

export async function tenantPreflight(options: PreflightOptions): Promise<PreflightReport> {
  const { connection, config } = options;
  const { tenant } = connection.config;
  const now = options.now ?? Date.now;
  const report: PreflightReport = { tenant, lines: [], flows: [], blankDivision: {} };
  const line = (status: CheckStatus, label: string, detail: string) => report.lines.push({ status, label, detail });
  const selection = flowsToCheck(config.config, tenant, options.flows);
  if (selection.note) line('warn', 'flows', selection.note);
  const companiesOf = (flow: FlowConfig) => options.companies ?? flow.companies;
  const failAll = (why: string) => {
    for (const flow of selection.flows) {
      for (const company of companiesOf(flow)) report.flows.push({ flow: flow.id, entity: flow.entity, company, status: 'fail', notes: [why] });
    }
    return report;
  };

  try {
    await connection.tokens.getAccessToken();
    line('ok', 'token', `issued by ${connection.config.tokenUrl} (${connection.config.grant === 'password' ? 'service account, password grant' : 'client credentials grant'})`);
  } catch (error) {
    line('fail', 'token', (error as Error).message);
    return failAll(`no token: ${(error as Error).message}`);
  }
  const { mi } = connection;
  try {
    const { records } = await mi.execute({ program: 'MNS150MI', transaction: 'GetUserData' });
    const user = records[0] ?? {};
    line('ok', 'MI call MNS150MI/GetUserData', `user ${user.USID ?? '?'}, default company ${user.CONO ?? '?'} division ${user.DIVI || '(blank)'}`);
  } catch (error) {
    line('fail', 'MI call MNS150MI/GetUserData', (error as Error).message);
    return failAll(`MI calls fail: ${(error as Error).message}`);
  }

  // Per company: its divisions, and how it takes the blank session division.
  const flows = selection.flows.map((flow) => ({ flow, entity: config.catalog.get(flow.entity) }));
  const companies = [...new Set(selection.flows.flatMap(companiesOf))];
  const companyProblem = new Map<string, string>();
  const divisions = new Map<string, string[]>();
  for (const company of companies) {
    try {
      const { records } = await mi.execute({ program: 'MNS100MI', transaction: 'LstDivisions', inputs: { CONO: company }, outputFields: ['CONO', 'DIVI'], company, maxRecords: 0 });
      const list = [...new Set(records.map((r) => r.DIVI ?? '').filter((d) => d.trim() !== ''))].sort();
      divisions.set(company, list);
      line('ok', `company ${company}`, `${list.length} division(s): ${list.join(', ') || '(none)'}`);
    } catch (error) {
      const why = error instanceof MiError && error.code === 'XAU0008' ? `the service account may not use company ${company}: ${error.message}` : (error as Error).message;
      companyProblem.set(company, why);
      line('fail', `company ${company}`, why);
      continue;
    }
    const forms = await blankDivisionForms(mi, company, divisions.get(company)!, flows.map((f) => f.entity));
    report.blankDivision[company] = forms;
    const verdict =
      forms.matrix === 'honoured'
        ? `division conditions work on a blank-division session as the product sends it (;divi= as a matrix parameter); as a query parameter divi= is ${forms.query}`
        : forms.matrix === 'not verifiable'
          ? 'not verifiable here (one division, or no rows with a division); division-scoped EXPORTMI entities check every row and fail loudly if the condition is ignored'
          : `a blank divi= as a matrix parameter is ${forms.matrix}, as a query parameter ${forms.query}: EXPORTMI division conditions will not hold; give the service user a blank (global) default division in MNS150`;
    line(forms.matrix === 'ignored' ? 'warn' : 'ok', `company ${company} blank division`, verdict);
  }

  // Per entity: its fields as this tenant has them (one metadata read each).
  const resolutions = new Map<string, EntityResolution>();
  for (const { flow, entity } of flows) {
    if (resolutions.has(entity.id)) continue;
    const company = companiesOf(flow).find((c) => !companyProblem.has(c));
    try {
      resolutions.set(entity.id, resolveEntity(entity, await readCheckedEntityFields(mi, entity, company)));
    } catch (error) {
      resolutions.set(entity.id, { status: 'unusable', missing: [], problem: `${entity.id}: the tenant's fields cannot be read: ${(error as Error).message}` });
    }
  }

  // The number format as shown by a sample with a negative value when there is one.
  let numberFormat: string | undefined;
  for (const { flow, entity: configured } of flows) {
    const resolution = resolutions.get(configured.id)!;
    for (const company of companiesOf(flow)) {
      const check: FlowCheck = { flow: flow.id, entity: configured.id, company, status: 'ok', notes: [] };
      report.flows.push(check);
      const note = (status: CheckStatus, text: string) => {
        check.status = worst(check.status, status);
        check.notes.push(text);
      };
      const problem = companyProblem.get(company);
      if (problem) {
        note('fail', problem);
        continue;
      }
      if (resolution.status === 'unusable') {
        note('fail', resolution.problem);
        continue;
      }
      const entity = resolution.entity;
      fieldNotes(entity, resolution, note);
      const division = entity.scope === 'division' ? (divisions.get(company)?.[0] ?? '') : '';
      if (entity.scope === 'division' && division === '') {
        note('warn', `company ${company} has no divisions: nothing to read`);
        continue;
      }
      try {
        if (entity.source.kind === 'exportmi') {
          if (entity.scope === 'division' && report.blankDivision[company]?.matrix === 'ignored') {
            note('fail', 'EXPORTMI division conditions are ignored on this tenant (see the blank division line): give the service user a blank (global) default division in MNS150');
          }
          const format = await exportMiChecks(mi, entity, company, division, note);
          if (format && (!numberFormat || (!numberFormat.includes('e.g. -') && format.includes('e.g. -')))) numberFormat = format;
        }
        const page = await timeOnePage(mi, entity, company, division, flow, options.slowPageMs ?? SLOW_PAGE_MS, now, note);
        check.info = `${entity.fields.length} fields; one page${page.since ? ` of a daily run (changes since ${page.since})` : ''}: ${page.records} records in ${(page.ms / 1000).toFixed(1)} s`;
      } catch (error) {
        note('fail', `reading failed: ${(error as Error).message}`);
      }
    }
  }
  if (numberFormat) line('ok', 'number format in REPL', numberFormat);
  return report;
}

/** Present, absent and conflicting fields, in words an operator can act on. */
function fieldNotes(entity: EntityDefinition, resolution: Extract<EntityResolution, { status: 'ready' }>, note: (s: CheckStatus, t: string) => void): void {
  if (!resolution.verified) note('warn', resolution.warnings.join('; '));
  if (resolution.dropped.length > 0) {
    note(
      'warn',
      `${resolution.dropped.length} of ${entity.fields.length + resolution.dropped.length} configured fields not on this tenant: ${resolution.dropped.join(', ')} ` +
        '(left out, with a warning in every run; remove them from the entity to silence it)',
    );
  }
  if (resolution.retyped.length > 0) {
    note(
      'warn',
      `types differ from the catalog: ${resolution.retyped.map((r) => `${r.field} ${r.catalog}→${r.tenant}`).join(', ')} ` +
        "(the tenant's are used; an existing warehouse column of another type stops the load before any change)",
    );
  }
}

async function select(mi: MiExecutor, company: string, query: string, maxRecords: number, session: Partial<MiRequest> = {}): Promise<string[]> {
  const { records } = await mi.execute({
    program: 'EXPORTMI', transaction: 'Select', inputs: { QERY: query, SEPC: SEPARATOR, HDRS: '0' }, maxRecords, company, division: '', ...session,
  });
  return records.map((r) => r.REPL ?? '');
}

function rows(repls: string[], columns: readonly FieldDefinition[]): Record<string, string>[] | undefined {
  const out: Record<string, string>[] = [];
  for (const repl of repls) {
    const values = splitBySeparator(repl, SEPARATOR, columns);
    if (!values) return undefined;
    out.push(Object.fromEntries(columns.map((c, i) => [c.name, values[i]!])));
  }
  return out;
}

/**
 * Whether division conditions hold on a blank-division session, with the blank division sent as a matrix
 * parameter (the product's way, Infor's SDK's) and as a query parameter: rows asked for with the last
 * division's code must all carry it. Reading a division-keyed table in key order, an ignored condition
 * shows rows of the divisions before it.
 */
async function blankDivisionForms(mi: MiExecutor, company: string, divisions: string[], entities: EntityDefinition[]): Promise<{ matrix: DivisionForm; query: DivisionForm }> {
  if (divisions.length < 2) return { matrix: 'not verifiable', query: 'not verifiable' };
  const own = entities.find((e) => e.source.kind === 'exportmi' && e.key.includes('DIVI'));
  const source = own?.source.kind === 'exportmi' ? { table: own.source.table, prefix: own.source.prefix } : { table: 'FCHACC', prefix: 'EA' };
  const target = divisions.at(-1)!;
  const divi: FieldDefinition = { name: 'DIVI', type: 'A', length: 3, decimals: 0 };
  const query = buildSelect(source.table, source.prefix, [divi], [{ field: divi, op: '=', value: target }]);
  const form = async (sessionForm: 'matrix' | 'query'): Promise<DivisionForm> => {
    try {
      const found = await select(mi, company, query, 10, { sessionForm });
      if (found.length === 0) return 'not verifiable';
      return found.every((d) => d.trim() === target) ? 'honoured' : 'ignored';
    } catch {
      return 'not verifiable';
    }
  };
  return { matrix: await form('matrix'), query: await form('query') };
}

/** Key order over a small key range, a doubled quote, and the number format: what EXPORTMI paging relies on. Returns the format seen. */
async function exportMiChecks(mi: MiExecutor, entity: EntityDefinition, company: string, division: string, note: (s: CheckStatus, t: string) => void): Promise<string | undefined> {
  if (entity.source.kind !== 'exportmi') return undefined;
  const { table, prefix } = entity.source;
  const field = (name: string) => entity.fields.find((f) => f.name === name)!;
  const base: Condition[] = entity.scope === 'division' ? [{ field: field('DIVI'), op: '=', value: division }] : [];
  const cursorFields = entity.key.filter((k) => k !== 'CONO' && !(entity.scope === 'division' && k === 'DIVI')).map(field);
  const keyColumns = entity.key.filter((k) => k !== 'CONO').map(field);

  if (entity.source.paging === 'key-cursor' && cursorFields.length > 0) {
    const ordered = (found: Record<string, string>[]) => found.every((r, i) => i === 0 || compareKeys(cursorFields, found[i - 1]!, r) < 0);
    const first = rows(await select(mi, company, buildSelect(table, prefix, keyColumns, base), 20), keyColumns);
    if (first && !ordered(first)) {
      note('fail', `EXPORTMI returned ${table} rows out of key order, so key paging could skip records: set the entity's source.paging to "single-call" in extraEntities`);
    } else if (first && first.length >= 3) {
      const lead = cursorFields[0]!;
      const from = first[2]![lead.name]!;
      const range = rows(await select(mi, company, buildSelect(table, prefix, keyColumns, [...base, { field: lead, op: '>=', value: from }]), 10), keyColumns);
      if (range && (!ordered(range) || range.some((r) => compareFieldValues(lead, r[lead.name]!, from) < 0))) {
        note('fail', `EXPORTMI did not honour a key range on ${table} (${lead.name} >= ${from}) in key order: set the entity's source.paging to "single-call" in extraEntities`);
      }
    }
  }

  const text = entity.fields.find((f) => f.type === 'A' && f.name !== 'DIVI');
  if (text) {
    try {
      await select(mi, company, buildSelect(table, prefix, keyColumns, [...base, { field: text, op: '=', value: "O'Brien" }]), 1);
    } catch (error) {
      note('fail', `M3 refused a quote doubled inside a string literal (${prefix}${text.name} = 'O''Brien'): keys with quotes could not be paged; ${(error as Error).message}`);
    }
  }

  const numbers = entity.fields.filter((f) => f.type === 'N' && f.decimals > 0).slice(0, 4);
  if (numbers.length === 0) return undefined;
  const sample = rows(await select(mi, company, buildSelect(table, prefix, [...keyColumns, ...numbers], base), 50), [...keyColumns, ...numbers]);
  if (!sample || sample.length === 0) return undefined;
  const format = numberFormatOf(sample.flatMap((r) => numbers.map((n) => r[n.name]!.trim())));
  if (format.problem) note('fail', `${table}: ${format.problem}`);
  return format.problem ? undefined : `${format.described} (sample: ${table}, company ${company})`;
}

/**
 * The number format of REPL values as M3 wrote them: the product reads a '.' decimal point and a leading
 * minus sign; a decimal comma or a trailing sign would be read wrong, so it is a problem with the fix.
 */
export function numberFormatOf(values: string[]): { described: string; problem?: string } {
  const written = values.filter((v) => v !== '');
  const unreadable = written.find((v) => /\d,\d/.test(v)) ?? written.find((v) => /\d-$/.test(v)) ?? written.find((v) => !/^-?\d+(\.\d+)?$/.test(v));
  if (unreadable !== undefined) {
    return {
      described: '',
      problem:
        `numbers come as "${unreadable}" in REPL, but the product reads a '.' decimal point and a leading minus sign; ` +
        "set the service user's decimal format (DCFM) to '.' in MNS150, then check again",
    };
  }
  const decimals = written.find((v) => v.includes('.'));
  const negative = written.find((v) => v.startsWith('-'));
  return {
    described:
      `decimal point '.'${decimals ? ` (e.g. ${decimals})` : ' (no decimals in the sample)'}, ` +
      `minus sign first${negative ? ` (e.g. ${negative})` : ' (no negative value in the sample)'}`,
  };
}

/** The first page as a run would read it (the entity's page size; a daily window for incremental entities). */
async function timeOnePage(
  mi: MiExecutor,
  entity: EntityDefinition,
  company: string,
  division: string,
  flow: FlowConfig,
  slowPageMs: number,
  now: () => number,
  note: (s: CheckStatus, t: string) => void,
): Promise<{ records: number; ms: number; since: string | null }> {
  const since = entity.strategy === 'incremental' ? new Date(now() - (flow.overlapDays + 1) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '') : null;
  const request = { mi, entity, company, division, window: { since, until: null }, deadline: Deadline.in(10 * 60_000) };
  const pages = entity.source.kind === 'exportmi' ? pageExportMi(request) : pageMiList(request);
  const started = now();
  const page = await pages.next();
  await pages.return(undefined);
  const ms = now() - started;
  const records = page.done ? 0 : page.value.records.length;
  if (ms > slowPageMs) {
    note(
      'warn',
      `one page (${records} records, pageSize ${entity.pageSize}) took ${(ms / 1000).toFixed(1)} s, near the gateway's 60 s timeout: ` +
        `set the entity's pageSize to about ${Math.max(entity.minPageSize, Math.floor((entity.pageSize * slowPageMs) / ms / 2))} in extraEntities` +
        (entity.source.kind === 'exportmi' ? ` or ask for an index on ${entity.source.table} starting with ${entity.changeFields.date ?? 'its key'}` : ''),
    );
  }
  return { records, ms, since };
}
