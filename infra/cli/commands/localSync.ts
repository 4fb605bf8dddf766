// `sync` on the real state machine: runs infra/local/runLocalSync.ts (the synthesized Step Functions
// definition, the real handlers, dynalite, s3rver and the emulators or real systems) and prints a
// summary: records per entity and company, duration, where the data landed and how to query it.
import { ConfigError } from '../../../shared/config/configError.ts';
import { RUN_MODES, type RunMode } from '../../../shared/pipeline/executionInput.ts';
import { planWarnings } from '../../../shared/pipeline/runPlan.ts';
import { runLocalSync, type LocalSyncOptions, type LocalSyncResult } from '../../local/runLocalSync.ts';
import { progress, result, UsageError } from '../output.ts';
import { parseEmulatorKnobs } from '../emulatorKnobs.ts';
import { commaList, type RunSelectionOptions } from '../runSelection.ts';

export interface LocalSyncCommandOptions extends RunSelectionOptions {
  stateDir: string;
  reset?: boolean;
  rerunOf?: string;
  advanceDays?: string;
  ionapi?: string;
  databricksHost?: string;
  databricksPath?: string;
  /** JSON of the bundled emulator's knobs, or a file holding it. */
  emulatorKnobs?: string;
}

/** Command-line options to runLocalSync options; credentials for a real warehouse come from the environment. */
export function localSyncOptionsFrom(options: LocalSyncCommandOptions, env: NodeJS.ProcessEnv = process.env): LocalSyncOptions {
  const mode = options.mode as RunMode | undefined;
  if (mode !== undefined && !(RUN_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--mode must be ${RUN_MODES.join(', ')}, not "${mode}"`);
  }
  if (options.rerunOf && (options.flows || options.companies || options.divisions || options.since || options.until || mode)) {
    throw new UsageError('--rerun-of replays exactly the failed units of that execution: leave out --flows, --companies, --divisions, --since, --until and --mode');
  }
  let advanceDays: number | undefined;
  if (options.advanceDays !== undefined) {
    advanceDays = Number(options.advanceDays);
    if (!Number.isInteger(advanceDays) || advanceDays < 0) throw new UsageError(`--advance-days must be a whole number of days, not "${options.advanceDays}"`);
  }
  let databricks: LocalSyncOptions['databricks'];
  if (options.databricksHost || options.databricksPath) {
    if (!options.databricksHost || !options.databricksPath) throw new UsageError('a real warehouse needs both --databricks-host and --databricks-path');
    const token = env.DATABRICKS_TOKEN;
    const clientId = env.DATABRICKS_CLIENT_ID;
    const clientSecret = env.DATABRICKS_CLIENT_SECRET;
    if (!token && !(clientId && clientSecret)) {
      throw new UsageError('set DATABRICKS_TOKEN (a personal access token) or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth M2M) in the environment');
    }
    databricks = { host: options.databricksHost, httpPath: options.databricksPath, ...(token ? { token } : { clientId: clientId!, clientSecret: clientSecret! }) };
  }
  const flows = commaList(options.flows);
  const companies = commaList(options.companies);
  const divisions = commaList(options.divisions);
  return {
    stateDir: options.stateDir,
    ...(options.reset ? { reset: true } : {}),
    ...(flows ? { flows } : {}),
    ...(companies ? { companies } : {}),
    ...(divisions ? { divisions } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(mode ? { mode } : {}),
    ...(options.rerunOf ? { rerunOf: options.rerunOf } : {}),
    ...(advanceDays ? { advanceDays } : {}),
    ...(options.ionapi ? { ionapiFile: options.ionapi } : {}),
    ...(databricks ? { databricks } : {}),
    ...(options.emulatorKnobs ? { emulatorKnobs: parseEmulatorKnobs(options.emulatorKnobs, '--emulator-knobs') } : {}),
  };
}

interface Row {
  entity: string;
  company: string;
  units: number;
  extracted: number;
  loaded: number;
  status: string;
}

export function summaryRows(outcome: LocalSyncResult): Row[] {
  const rows = new Map<string, Row>();
  for (const unit of outcome.units) {
    const key = `${unit.entity}|${unit.company}`;
    const row = rows.get(key) ?? { entity: unit.entity, company: unit.company, units: 0, extracted: 0, loaded: 0, status: 'committed' };
    row.units += 1;
    row.extracted += unit.recordsExtracted ?? 0;
    row.loaded += unit.recordsLoaded ?? 0;
    if (unit.status !== 'committed') row.status = unit.status;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.entity.localeCompare(b.entity) || a.company.localeCompare(b.company));
}

function printTable(rows: Row[]): void {
  const header = ['entity', 'company', 'units', 'extracted', 'loaded', 'status'];
  const cells = rows.map((r) => [r.entity, r.company, String(r.units), String(r.extracted), String(r.loaded), r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  result(line(header));
  for (const c of cells) result(line(c));
}

/** Where the finance marts are and one question answered over them (README, "For the finance team"). */
export function martLines(outcome: Pick<LocalSyncResult, 'marts' | 'howToRun'>): string[] {
  const lines: string[] = [];
  for (const schema of outcome.marts?.schemas ?? []) {
    if (schema.created.length > 0) lines.push(`marts: ${schema.schema}: ${schema.created.join(', ')} (README, "For the finance team")`);
    const missing = [...schema.skipped.map((s) => s.mart), ...schema.failed.map((f) => f.mart)];
    if (missing.length > 0) lines.push(`marts not there yet in ${schema.schema}: ${[...new Set(missing)].join(', ')} (see the progress above)`);
    if (schema.unbalancedVouchers) lines.push(`warning: ${schema.unbalancedVouchers} GL voucher(s) do not balance: SELECT * FROM ${schema.schema}.gl_unbalanced_vouchers`);
    if (schema.created.includes('ap_aging')) {
      lines.push(`example: ${outcome.howToRun(`SELECT cono, suno, cucd, open_amount, overdue_over_90 FROM ${schema.schema}.ap_aging ORDER BY overdue_over_90 DESC LIMIT 5`)}`);
    }
  }
  return lines;
}

export async function localSyncCommand(options: LocalSyncCommandOptions): Promise<number> {
  const outcome = await runLocalSync({ ...localSyncOptionsFrom(options), progress });
  if (outcome.status === 'failed' && !outcome.plan) {
    // Failed before planning (an unknown flow or rerun name, a bad date): one clear line.
    throw new ConfigError(outcome.cause ?? outcome.error ?? 'the run failed before planning');
  }
  if (outcome.status === 'duplicate') {
    result(`execution ${outcome.executionName}: this run already happened; nothing to do`);
  } else {
    printTable(summaryRows(outcome));
  }
  const seconds = outcome.durationMs / 1000;
  const extracted = outcome.units.reduce((n, u) => n + (u.recordsExtracted ?? 0), 0);
  const loaded = outcome.units.reduce((n, u) => n + (u.recordsLoaded ?? 0), 0);
  const failed = outcome.units.filter((u) => u.status !== 'committed').length;
  // Fields a tenant lacks cost a column, never the entity: say which, whether the run succeeded or not.
  const warnings = outcome.run?.summary?.warnings ?? (outcome.plan ? planWarnings(outcome.plan) : []);
  if (warnings.length > 0) {
    result('');
    for (const warning of warnings) result(`warning: ${warning}`);
  }
  result('');
  result(`execution ${outcome.executionName}: ${outcome.status} in ${seconds.toFixed(1)} s (${outcome.plan?.mode ?? 'no'} run, ${outcome.units.length} units)`);
  result(`from: ${outcome.cloudSuite}`);
  result(`into: ${outcome.warehouse}: ${outcome.tables.join(', ') || 'no tables'}`);
  result(`query: ${outcome.howToQuery}`);
  for (const line of martLines(outcome)) result(line);
  if (outcome.status === 'failed') {
    result(`failed: ${outcome.cause ?? outcome.error ?? 'see the log above'}`);
    if (failed > 0) result(`replay the failed units: npx cloudsuite-sync sync --rerun-of ${outcome.executionName}`);
  }
  result(
    JSON.stringify({
      executionName: outcome.executionName,
      status: outcome.status,
      mode: outcome.plan?.mode ?? null,
      units: outcome.units.length,
      failedUnits: failed,
      recordsExtracted: extracted,
      recordsLoaded: loaded,
      seconds: Number(seconds.toFixed(2)),
      historyEvents: outcome.awsHistoryEvents,
      warnings,
    }),
  );
  return outcome.status === 'failed' ? 1 : 0;
}
