// A chaos scenario as plain data, drawn from one seed: the tenant's size and the flow settings, then a
// sequence of days, each with the day's CloudSuite changes, a scheduled execution under a fault plan, and
// what an operator does when it fails (rerunOf, a plain rerun, or nothing until tomorrow). The same seed
// gives the same plan, printed with a counterexample so it can be read and replayed.
import { Rng } from '#emulators/cloudsuite/prng.ts';
import type { FaultRule, Knobs, MutationPlan, Volume } from '#emulators/cloudsuite/index.ts';
import type { AwsFaultSpec } from './awsFaults.ts';
import { LAMBDA_ERRORS, TASK_STATES, type TaskFaultSpec } from './taskFaults.ts';

/** A warehouse emulator fault, with matchSql as text so the plan stays JSON. */
export interface WarehouseFaultSpec {
  rpc: 'OpenSession' | 'ExecuteStatement' | 'GetOperationStatus';
  kind: 'http503' | 'http429' | 'http500' | 'error-state' | 'lost-answer';
  count: number;
  errorClass?: string;
  sqlState?: string;
  /** A regular expression source matched against the statement. */
  matchSql?: string;
}

export type FaultSpec =
  | { label: string; where: 'gateway'; rule: FaultRule }
  | { label: string; where: 'knobs'; knobs: Partial<Pick<Knobs, 'rateLimit' | 'tokenLifetimeSeconds' | 'issueRefreshTokens' | 'maxrecsCap'>> }
  | { label: string; where: 'aws'; aws: AwsFaultSpec }
  | { label: string; where: 'warehouse'; warehouse: WarehouseFaultSpec }
  | { label: string; where: 'task'; task: TaskFaultSpec };

/** Something that happens when the run has made `afterCalls` MI calls (while it is paging). */
export type MidRunEvent =
  | { afterCalls: number; action: 'mutate'; plan: MutationPlan; label: 'changes-mid-paging' }
  | { afterCalls: number; action: 'expire-tokens'; label: 'token-expired-mid-run' }
  | { afterCalls: number; action: 'revoke-tokens'; label: 'token-revoked-mid-run' }
  /** M3's calendar passes midnight while the run pages: the next day's changes land, stamped with its date. */
  | { afterCalls: number; action: 'next-day'; label: 'midnight-mid-run' };

export interface ExecutionPlan {
  /**
   * schedule: the day's scheduled start; rerun-of-failed: {"rerunOf": <the day's last failed execution>};
   * plain: a console incremental run of every flow; operator: a console run with `input` (some flows,
   * companies or divisions, a backfill window, a full re-read); reconcile: the flows' scheduled reconcile run.
   */
  kind: 'schedule' | 'rerun-of-failed' | 'plain' | 'operator' | 'reconcile';
  /** The console input of an operator run. */
  input?: Record<string, unknown>;
  /** Follow-ups run only when the day's latest execution failed. */
  onlyIfFailed: boolean;
  faults: FaultSpec[];
  midRun: MidRunEvent[];
  /** The same scheduled start delivered twice, or the same rerunOf started twice; both executions race. */
  duplicateStart: boolean;
  /** A console run of every flow started at the same time (both do work; table leases serialise loads). */
  overlappingRun: boolean;
  /** CloudSuite changes after this execution, before the next one on the same day (same LMDT). */
  changesAfter: MutationPlan[];
}

/**
 * What no LMDT window shows (the CloudSuite emulator's knobs, per company and simulated day, for each incremental
 * table: purchase orders and lines, supplier invoices and lines, AP ledger, GL transactions): rows changed without
 * a new change stamp, and rows physically deleted (a head with its lines).
 */
export interface HiddenChanges {
  silentChangesPerDay: number;
  deletesPerDay: number;
}

/**
 * After the final runs: the scheduled reconcile under a fault plan (token events only mid-run: a change while it
 * reads would be one it need not see), then follow-ups while it has failed — `rerunOf` the failed reconcile,
 * under faults of their own — before the harness's clean reruns.
 */
export interface ReconcilePlan {
  run: ExecutionPlan;
  followUps: ExecutionPlan[];
}

export interface DayPlan {
  day: number;
  /** The emulator's hidden-change knobs from this day on (set before the clock moves). */
  hidden: HiddenChanges;
  /** Business days the emulator's clock moves first (0 on day 0; 2 = a day without a run). */
  advanceDays: number;
  /** Extra changes stamped on the new day before its first run (many changes on one LMDT day). */
  changesBefore: MutationPlan[];
  executions: ExecutionPlan[];
}

export interface ScenarioPlan {
  seed: number;
  companies: string[];
  volume: Partial<Volume>;
  overlapDays: number;
  maxConcurrency: number;
  /** Records per MI call for every entity (small: many pages, many calls for faults to land on). */
  pageSize: number;
  /** Extract invocations run out of time after this many MI calls (continuations with checkpoints). */
  miCallsPerExtract?: number;
  /** How Load stages rows (copy: COPY INTO from the local S3). */
  loadMode: 'merge' | 'copy';
  /** Load invocations run out of time after this many statements (load continuations with checkpoints). */
  loadStatementsPerInvocation?: number;
  days: DayPlan[];
  /** Before the final clean run: rerunOf every execution still failed, after the faults stopped. */
  rerunFailedAtEnd: boolean;
  reconcile: ReconcilePlan;
}

export interface ScenarioShape {
  /** Days per scenario, inclusive range. */
  days: [number, number];
  companies: string[];
  /** Multiplies the default small volume. */
  volumeScale: number;
  /** Faults per execution, inclusive upper bound. */
  maxFaultsPerExecution: number;
}

export const DEFAULT_SHAPE: ScenarioShape = { days: [2, 4], companies: ['100', '200'], volumeScale: 1, maxFaultsPerExecution: 3 };

const GATEWAY_TARGETS: ({ program?: string; transaction?: string })[] = [
  {},
  {},
  { program: 'EXPORTMI', transaction: 'Select' },
  { program: 'CRS620MI', transaction: 'LstSuppliers' },
  { program: 'CRS630MI', transaction: 'LstAccountID' },
  { program: 'PPS100MI', transaction: 'LstAgrHead' },
  { program: 'MNS100MI', transaction: 'LstDivisions' },
];

const AWS_COMMANDS: Record<'s3' | 'dynamodb', { command: string; calls: number }[]> = {
  s3: [
    { command: 'PutObjectCommand', calls: 25 },
    { command: 'GetObjectCommand', calls: 25 },
  ],
  dynamodb: [
    { command: 'UpdateItemCommand', calls: 80 },
    { command: 'PutItemCommand', calls: 20 },
    { command: 'GetItemCommand', calls: 25 },
    { command: 'QueryCommand', calls: 8 },
    { command: 'DeleteItemCommand', calls: 6 },
  ],
};

/** Where a warehouse fault lands: any statement, or one step of a load. */
const LOAD_STEPS = [undefined, '^INSERT INTO', '^MERGE INTO', '_history', '^UPDATE', '^CREATE OR REPLACE TABLE', '^DROP TABLE', '^SELECT'];

/** Statements whose answer a lost-answer fault drops after they ran (each must be idempotent). */
const LOST_ANSWER_STEPS = ['^INSERT INTO', '^MERGE INTO', '_history` AS h', '^ALTER TABLE', '^UPDATE', '^COPY INTO', '^DELETE', '^CREATE TABLE', '^DROP TABLE'];

/** Invocations of each state in a day's run, roughly (for choosing `nth`). */
const TASK_INVOCATIONS: Record<(typeof TASK_STATES)[number], number> = {
  Plan: 1, Extract: 24, RecordExtractFailure: 1, GroupByTable: 1, Load: 9, Commit: 9, RecordTableFailure: 1, FinishRun: 1,
};

type Family = 'gateway' | 'aws' | 'warehouse' | 'lambda';

export const NO_HIDDEN_CHANGES: HiddenChanges = { silentChangesPerDay: 0, deletesPerDay: 0 };

/** The reconcile without faults, events or a racing start. */
export const CLEAN_RECONCILE: ExecutionPlan = {
  kind: 'reconcile', onlyIfFailed: false, faults: [], midRun: [], duplicateStart: false, overlappingRun: false, changesAfter: [],
};

function gatewayTarget(rng: Rng): { program?: string; transaction?: string; afterCalls: number } {
  const target = rng.pick(GATEWAY_TARGETS);
  // EXPORTMI carries most calls; the list transactions a few each per run.
  return { ...target, afterCalls: target.program === undefined ? rng.int(40) : target.program === 'EXPORTMI' ? rng.int(25) : rng.int(3) };
}

function http429(retryAfter: 'seconds' | 'http-date' | 'none') {
  return (rng: Rng): FaultSpec => ({
    label: `gateway-429-burst-retry-after-${retryAfter}`,
    where: 'gateway',
    rule: { kind: 'http429', ...gatewayTarget(rng), count: rng.between(1, 12), retryAfter },
  });
}

function aws(service: 's3' | 'dynamodb', mode: 'retryable' | 'fatal' | 'lost-response') {
  return (rng: Rng): FaultSpec => {
    const { command, calls } = rng.pick(AWS_COMMANDS[service]);
    // Three attempts in a row exhaust the SDK's default retries.
    const count = mode === 'retryable' ? rng.pick([1, 2, 3, 4]) : 1;
    return { label: `${service}-${mode}`, where: 'aws', aws: { service, command, nth: rng.between(1, calls), count, mode } };
  };
}

const at = (rng: Rng) => {
  const matchSql = rng.pick(LOAD_STEPS);
  return matchSql === undefined ? {} : { matchSql };
};

function lambda(mode: 'crash-after' | 'kill-before') {
  return (rng: Rng): FaultSpec => {
    const state = rng.pick(TASK_STATES);
    const error = rng.pick(LAMBDA_ERRORS);
    // Retried errors sometimes fail every attempt, so the retry budget runs out too.
    const count = error === 'TransientError' || error === 'Lambda.ServiceException' ? rng.pick([1, 1, 3, 7]) : 1;
    const label = mode === 'crash-after' ? 'lambda-crash-after-side-effects' : 'lambda-killed-before';
    return { label, where: 'task', task: { state, mode, error, nth: rng.between(1, TASK_INVOCATIONS[state]), count } };
  };
}

/** Every fault a scenario can arm, by label (README.md describes each). */
export const FAULT_CATALOGUE: Record<string, { family: Family; make: (rng: Rng) => FaultSpec }> = {
  'gateway-429-burst-retry-after-seconds': { family: 'gateway', make: http429('seconds') },
  'gateway-429-burst-retry-after-http-date': { family: 'gateway', make: http429('http-date') },
  'gateway-429-burst-retry-after-none': { family: 'gateway', make: http429('none') },
  'gateway-rate-limit': {
    family: 'gateway',
    make: (rng) => ({
      label: 'gateway-rate-limit',
      where: 'knobs',
      knobs: { rateLimit: { requestsPerSecond: rng.between(20, 120), burst: rng.between(2, 10), retryAfter: rng.pick(['seconds', 'http-date', 'none'] as const) } },
    }),
  },
  'gateway-5xx': {
    family: 'gateway',
    make: (rng) => ({ label: 'gateway-5xx', where: 'gateway', rule: { kind: rng.pick(['http500', 'http502', 'http503', 'http504'] as const), ...gatewayTarget(rng), count: rng.between(1, 7) } }),
  },
  'gateway-reset': { family: 'gateway', make: (rng) => ({ label: 'gateway-reset', where: 'gateway', rule: { kind: 'reset', ...gatewayTarget(rng), count: rng.between(1, 6) } }) },
  'gateway-malformed': {
    family: 'gateway',
    make: (rng) => ({ label: 'gateway-malformed', where: 'gateway', rule: { kind: 'malformed', ...gatewayTarget(rng), count: rng.between(1, 3) } }),
  },
  'gateway-partial-nok': {
    family: 'gateway',
    make: (rng) => ({ label: 'gateway-partial-nok', where: 'gateway', rule: { kind: 'partial-nok', ...gatewayTarget(rng), count: rng.between(1, 2) } }),
  },
  'gateway-revoke-token': {
    family: 'gateway',
    make: (rng) => ({ label: 'gateway-revoke-token', where: 'gateway', rule: { kind: 'revoke-token', ...gatewayTarget(rng), count: rng.between(1, 2) } }),
  },
  'token-endpoint-500': {
    family: 'gateway',
    make: (rng) => ({ label: 'token-endpoint-500', where: 'gateway', rule: { kind: 'token-endpoint-500', count: rng.between(1, 5) } }),
  },
  // The server silently returns fewer rows than asked for: paging must go on past short pages.
  'gateway-maxrecs-cap': { family: 'gateway', make: (rng) => ({ label: 'gateway-maxrecs-cap', where: 'knobs', knobs: { maxrecsCap: rng.between(2, 4) } }) },
  // Tokens that live a second or two (real time): they expire again and again during one run.
  'token-short-lifetime': {
    family: 'gateway',
    make: (rng) => ({ label: 'token-short-lifetime', where: 'knobs', knobs: { tokenLifetimeSeconds: rng.between(1, 2), issueRefreshTokens: rng.chance(0.7) } }),
  },
  's3-retryable': { family: 'aws', make: aws('s3', 'retryable') },
  's3-fatal': { family: 'aws', make: aws('s3', 'fatal') },
  's3-lost-response': { family: 'aws', make: aws('s3', 'lost-response') },
  'dynamodb-retryable': { family: 'aws', make: aws('dynamodb', 'retryable') },
  'dynamodb-fatal': { family: 'aws', make: aws('dynamodb', 'fatal') },
  'dynamodb-lost-response': { family: 'aws', make: aws('dynamodb', 'lost-response') },
  'warehouse-http': {
    family: 'warehouse',
    make: (rng) => ({ label: 'warehouse-http', where: 'warehouse', warehouse: { rpc: 'ExecuteStatement', kind: rng.pick(['http503', 'http429', 'http500'] as const), count: rng.between(1, 8), ...at(rng) } }),
  },
  'warehouse-http-open-session': {
    family: 'warehouse',
    make: (rng) => ({ label: 'warehouse-http-open-session', where: 'warehouse', warehouse: { rpc: 'OpenSession', kind: 'http503', count: rng.between(1, 8) } }),
  },
  'warehouse-starting': {
    family: 'warehouse',
    make: (rng) => ({
      label: 'warehouse-starting',
      where: 'warehouse',
      warehouse: { rpc: 'ExecuteStatement', kind: 'error-state', errorClass: 'TEMPORARILY_UNAVAILABLE', sqlState: '08000', count: rng.between(1, 8), ...at(rng) },
    }),
  },
  // The statement runs, but its status reports an error: the retry repeats finished work.
  'warehouse-ambiguous': {
    family: 'warehouse',
    make: (rng) => ({
      label: 'warehouse-ambiguous',
      where: 'warehouse',
      warehouse: { rpc: 'GetOperationStatus', kind: 'error-state', errorClass: 'TEMPORARILY_UNAVAILABLE', sqlState: '08000', count: rng.between(1, 3), ...at(rng) },
    }),
  },
  'warehouse-concurrent-append': {
    family: 'warehouse',
    make: (rng) => ({
      label: 'warehouse-concurrent-append',
      where: 'warehouse',
      warehouse: { rpc: 'ExecuteStatement', kind: 'error-state', errorClass: 'DELTA_CONCURRENT_APPEND', sqlState: '2D521', count: rng.between(1, 4), matchSql: '^MERGE INTO' },
    }),
  },
  // The statement runs and commits, then the connection drops: the loader sends it again.
  'warehouse-lost-answer': {
    family: 'warehouse',
    make: (rng) => ({
      label: 'warehouse-lost-answer',
      where: 'warehouse',
      warehouse: { rpc: 'ExecuteStatement', kind: 'lost-answer', count: rng.between(1, 3), matchSql: rng.pick(LOST_ANSWER_STEPS) },
    }),
  },
  // Conflicts background OPTIMIZE or predictive optimization cause besides concurrent appends: retried.
  'warehouse-delta-conflict': {
    family: 'warehouse',
    make: (rng) => ({
      label: 'warehouse-delta-conflict',
      where: 'warehouse',
      warehouse: {
        rpc: 'ExecuteStatement', kind: 'error-state', count: rng.between(1, 3), sqlState: '2D521',
        errorClass: rng.pick(['DELTA_CONCURRENT_DELETE_READ', 'DELTA_CONCURRENT_DELETE_DELETE', 'DELTA_METADATA_CHANGED', 'DELTA_CONCURRENT_TRANSACTION'] as const),
        matchSql: rng.pick(['^MERGE INTO', '^UPDATE', '^COPY INTO', '^INSERT INTO', '^ALTER TABLE']),
      },
    }),
  },
  'warehouse-internal-error': {
    family: 'warehouse',
    make: (rng) => ({ label: 'warehouse-internal-error', where: 'warehouse', warehouse: { rpc: 'ExecuteStatement', kind: 'error-state', count: 1, ...at(rng) } }),
  },
  'lambda-crash-after-side-effects': { family: 'lambda', make: lambda('crash-after') },
  'lambda-killed-before': { family: 'lambda', make: lambda('kill-before') },
};

/**
 * Catalogue faults added after the scenarios' draws were settled (the warehouse faults of idempotent loads): drawn
 * from streams of their own, so every seed's other draws (and what they were shown to exercise) stay as they were.
 */
const ADDED_LATER = ['warehouse-lost-answer', 'warehouse-delta-conflict'];

const LABELS_BY_FAMILY = Object.groupBy(
  Object.keys(FAULT_CATALOGUE).filter((label) => !ADDED_LATER.includes(label)),
  (label) => FAULT_CATALOGUE[label]!.family,
);
/** How often each family is drawn for a fault (then a label of it, uniformly). */
const FAMILY_WEIGHTS: [Family, number][] = [['gateway', 3], ['aws', 2], ['warehouse', 2], ['lambda', 3]];

function randomFault(rng: Rng): FaultSpec {
  let roll = rng.int(FAMILY_WEIGHTS.reduce((n, [, w]) => n + w, 0));
  const [family] = FAMILY_WEIGHTS.find(([, w]) => (roll -= w) < 0)!;
  const label = rng.pick(LABELS_BY_FAMILY[family]!);
  return FAULT_CATALOGUE[label]!.make(rng);
}

function faultPlan(rng: Rng, max: number): FaultSpec[] {
  return Array.from({ length: rng.int(max + 1) }, () => randomFault(rng));
}

function changes(rng: Rng, companies: string[]): MutationPlan {
  return {
    updates: rng.between(1, 12),
    inserts: rng.int(4),
    deletes: rng.int(3),
    ...(rng.chance(0.3) ? { company: rng.pick(companies) } : {}),
  };
}

function midRunEvents(rng: Rng, companies: string[]): MidRunEvent[] {
  const events: MidRunEvent[] = [];
  if (rng.chance(0.6)) events.push({ afterCalls: rng.between(1, 60), action: 'mutate', plan: changes(rng, companies), label: 'changes-mid-paging' });
  if (rng.chance(0.3)) events.push({ afterCalls: rng.between(1, 60), action: 'mutate', plan: changes(rng, companies), label: 'changes-mid-paging' });
  if (rng.chance(0.2)) events.push({ afterCalls: rng.between(1, 60), action: 'expire-tokens', label: 'token-expired-mid-run' });
  if (rng.chance(0.15)) events.push({ afterCalls: rng.between(1, 60), action: 'revoke-tokens', label: 'token-revoked-mid-run' });
  if (rng.chance(0.1)) events.push({ afterCalls: rng.between(1, 60), action: 'next-day', label: 'midnight-mid-run' });
  return events;
}

const FLOWS = ['suppliers', 'gl-accounts', 'purchase-agreements', 'purchase-orders', 'purchase-order-lines', 'supplier-invoices',
  'supplier-invoice-lines', 'ap-ledger', 'gl-transactions'];

/** The emulator's divisions of the first company, second company, …: A01 A02 B10, C01 C02 D10, E01 E02 F10. */
function divisionsOf(companyIndex: number): string[] {
  const a = String.fromCharCode(65 + 2 * companyIndex);
  const b = String.fromCharCode(66 + 2 * companyIndex);
  return [`${a}01`, `${a}02`, `${b}10`];
}

/** What an operator starts from the console besides a rerun: part of the flows, a backfill, a full re-read. */
function operatorInput(rng: Rng, companies: string[]): Record<string, unknown> {
  const index = rng.int(companies.length);
  const someFlows = FLOWS.filter(() => rng.chance(0.35));
  const flows = someFlows.length > 0 ? someFlows : [rng.pick(FLOWS)];
  switch (rng.int(4)) {
    case 0: {
      // One division of the division-scoped chart of accounts: its snapshot must not touch the others.
      return { flows: ['gl-accounts'], companies: [companies[index]!], divisions: [rng.pick(divisionsOf(index))] };
    }
    case 1: {
      const since = `2026-${rng.pick(['08', '09', '10', '11'])}-${String(rng.between(1, 28)).padStart(2, '0')}`;
      return { flows, mode: 'backfill', since, ...(since < '2026-11-19' && rng.chance(0.4) ? { until: '2026-11-19' } : {}) };
    }
    case 2:
      return { flows, mode: 'full', ...(rng.chance(0.5) ? { companies: [companies[index]!] } : {}) };
    default:
      return { flows, companies: [companies[index]!] };
  }
}

function execution(rng: Rng, kind: ExecutionPlan['kind'], shape: ScenarioShape, faultChance: number): ExecutionPlan {
  return {
    kind,
    ...(kind === 'operator' ? { input: operatorInput(rng, shape.companies) } : {}),
    onlyIfFailed: kind !== 'schedule',
    faults: rng.chance(faultChance) ? faultPlan(rng, shape.maxFaultsPerExecution) : [],
    midRun: rng.chance(0.7) ? midRunEvents(rng, shape.companies) : [],
    duplicateStart: kind === 'schedule' ? rng.chance(0.25) : kind === 'rerun-of-failed' && rng.chance(0.2),
    overlappingRun: kind === 'schedule' && rng.chance(0.1),
    changesAfter: [],
  };
}

export function planScenario(seed: number, shape: ScenarioShape = DEFAULT_SHAPE): ScenarioPlan {
  return withHiddenChangesAndReconcile(withLaterFaults(planScenarioDraws(seed, shape)), shape);
}

/** Mid-run events that change no data: a reconcile must equal the truth it read. */
const TOKEN_EVENTS: ReadonlySet<MidRunEvent['action']> = new Set(['expire-tokens', 'revoke-tokens']);

/**
 * Silent changes and deletes per day, and the reconcile after the final runs, from streams of their own (added
 * after the scenarios' other draws were settled, so those stay as they were). The deletes per day stay within
 * what the harness's flows allow (maxVanishedShare 1, chaosConfig): see README.md, "The vanished-keys guard".
 */
function withHiddenChangesAndReconcile(plan: ScenarioPlan, shape: ScenarioShape): ScenarioPlan {
  const rng = Rng.for(plan.seed, 'chaos-hidden');
  for (const day of plan.days) {
    day.hidden = rng.chance(0.85) ? { silentChangesPerDay: rng.between(1, 3), deletesPerDay: rng.between(0, 2) } : { silentChangesPerDay: 0, deletesPerDay: 0 };
  }
  // Every scenario has both kinds on some day its clock moves (day 0 has none unless M3's midnight passes mid-run).
  const moving = plan.days.filter((d) => d.advanceDays > 0);
  const last = moving[moving.length - 1];
  if (last) last.hidden = { silentChangesPerDay: Math.max(1, last.hidden.silentChangesPerDay), deletesPerDay: Math.max(1, last.hidden.deletesPerDay) };

  const reconcileRng = Rng.for(plan.seed, 'chaos-reconcile');
  const underFaults = (kind: ExecutionPlan['kind'], faultChance: number): ExecutionPlan => {
    const drawn = execution(reconcileRng, kind, shape, faultChance);
    if (reconcileRng.chance(0.3)) drawn.faults.push(FAULT_CATALOGUE[reconcileRng.pick(ADDED_LATER)]!.make(reconcileRng));
    return { ...drawn, onlyIfFailed: kind !== 'reconcile', midRun: drawn.midRun.filter((e) => TOKEN_EVENTS.has(e.action)), overlappingRun: false, changesAfter: [] };
  };
  plan.reconcile = {
    run: { ...underFaults('reconcile', 0.85), duplicateStart: reconcileRng.chance(0.25) },
    followUps: Array.from({ length: reconcileRng.between(0, 2) }, () => underFaults('rerun-of-failed', 0.35)),
  };
  return plan;
}

function planScenarioDraws(seed: number, shape: ScenarioShape): ScenarioPlan {
  const rng = Rng.for(seed, 'chaos-scenario');
  const scale = (n: number) => Math.max(1, Math.round(n * shape.volumeScale));
  const days: DayPlan[] = [];
  const dayCount = rng.between(shape.days[0], shape.days[1]);
  for (let day = 0; day < dayCount; day++) {
    const executions: ExecutionPlan[] = [execution(rng, 'schedule', shape, 0.85)];
    // What the operator does when the scheduled run failed: up to two follow-ups.
    for (let i = 0; i < 2; i++) {
      const roll = rng.next();
      if (roll < 0.5) executions.push(execution(rng, 'rerun-of-failed', shape, 0.35));
      else if (roll < 0.7) executions.push(execution(rng, 'plain', shape, 0.35));
    }
    // Intraday: more changes on the same LMDT day, then another run later that day (or an operator's run).
    if (rng.chance(0.35)) {
      executions[executions.length - 1]!.changesAfter.push(changes(rng, shape.companies));
      executions.push({ ...execution(rng, rng.chance(0.5) ? 'operator' : 'plain', shape, 0.5), onlyIfFailed: false });
    }
    const changesBefore: MutationPlan[] = [];
    if (day > 0 && rng.chance(0.6)) changesBefore.push({ ...changes(rng, shape.companies), updates: rng.between(5, 25) });
    days.push({ day, advanceDays: day === 0 ? 0 : rng.chance(0.2) ? 2 : 1, hidden: NO_HIDDEN_CHANGES, changesBefore, executions });
  }
  return {
    seed,
    companies: shape.companies,
    volume: {
      companies: shape.companies,
      suppliers: scale(rng.between(6, 12)),
      glAccountsPerDivision: scale(rng.between(3, 6)),
      agreements: scale(rng.between(3, 6)),
      purchaseOrders: scale(rng.between(6, 12)),
      linesPerOrder: 2,
      bigOrderLines: scale(rng.between(8, 30)),
      invoices: scale(rng.between(6, 12)),
      glTransactions: scale(rng.between(8, 20)),
    },
    overlapDays: rng.pick([1, 1, 2, 3]),
    maxConcurrency: rng.pick([1, 2, 4, 10]),
    pageSize: rng.pick([3, 5, 8, 13, 50]),
    ...(rng.chance(0.4) ? { miCallsPerExtract: rng.between(10, 16) } : {}),
    days,
    rerunFailedAtEnd: rng.chance(0.6),
    reconcile: { run: { ...CLEAN_RECONCILE }, followUps: [] },
    // From a stream of its own, so adding it left every other draw of a seed as it was.
    ...warehouseShape(seed),
  };
}

/** Adds the faults of ADDED_LATER to some executions of a plan, from their own stream. */
function withLaterFaults(plan: ScenarioPlan): ScenarioPlan {
  const rng = Rng.for(plan.seed, 'chaos-later-faults');
  for (const execution of plan.days.flatMap((d) => d.executions)) {
    if (rng.chance(0.3)) execution.faults.push(FAULT_CATALOGUE[rng.pick(ADDED_LATER)]!.make(rng));
  }
  return plan;
}

function warehouseShape(seed: number): Pick<ScenarioPlan, 'loadMode' | 'loadStatementsPerInvocation'> {
  const rng = Rng.for(seed, 'chaos-warehouse');
  return { loadMode: rng.chance(0.5) ? 'copy' : 'merge', ...(rng.chance(0.4) ? { loadStatementsPerInvocation: rng.between(12, 20) } : {}) };
}

/**
 * A scenario that arms every fault of the catalogue once (in a seeded order), with every mid-run event,
 * racing start and kind of rerun, over three days of seven executions: what npm test runs so that the
 * whole catalogue is exercised on every change, next to a few purely random seeds.
 */
export function planCatalogueScenario(seed: number, shape: ScenarioShape = DEFAULT_SHAPE): ScenarioPlan {
  const base = planScenarioDraws(seed, shape);
  const rng = Rng.for(seed, 'chaos-catalogue');
  // Faults added to the catalogue later draw from a stream of their own, so the scenario's other draws (and what
  // they have been shown to exercise) stay as they were.
  const later = Rng.for(seed, 'chaos-catalogue-later');
  const labels = Object.keys(FAULT_CATALOGUE).filter((label) => !ADDED_LATER.includes(label));
  for (let i = labels.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  const slots = 7;
  const faultsOf = (slot: number) => [
    ...labels.filter((_, i) => i % slots === slot).map((label) => FAULT_CATALOGUE[label]!.make(rng)),
    ...ADDED_LATER.filter((_, i) => i % slots === slot).map((label) => FAULT_CATALOGUE[label]!.make(later)),
  ];
  const mid = (action: MidRunEvent['action']): MidRunEvent => {
    const afterCalls = rng.between(3, 40);
    switch (action) {
      case 'mutate':
        return { afterCalls, action, plan: changes(rng, shape.companies), label: 'changes-mid-paging' };
      case 'expire-tokens':
        return { afterCalls, action, label: 'token-expired-mid-run' };
      case 'revoke-tokens':
        return { afterCalls, action, label: 'token-revoked-mid-run' };
      case 'next-day':
        return { afterCalls, action, label: 'midnight-mid-run' };
    }
  };
  const run = (kind: ExecutionPlan['kind'], slot: number, extra: Partial<ExecutionPlan> = {}): ExecutionPlan => ({
    kind, onlyIfFailed: false, faults: faultsOf(slot), midRun: [], duplicateStart: false, overlappingRun: false, changesAfter: [], ...extra,
  });
  const days: DayPlan[] = [
    { day: 0, advanceDays: 0, hidden: NO_HIDDEN_CHANGES, changesBefore: [], executions: [
      run('schedule', 0, { midRun: [mid('mutate'), mid('expire-tokens')], duplicateStart: true }),
      run('rerun-of-failed', 1, { changesAfter: [changes(rng, shape.companies)] }),
      run('plain', 2, { midRun: [mid('revoke-tokens')] }),
    ] },
    { day: 1, advanceDays: 1, hidden: NO_HIDDEN_CHANGES, changesBefore: [{ ...changes(rng, shape.companies), updates: 20 }], executions: [
      run('schedule', 3, { midRun: [mid('next-day'), mid('mutate')], overlappingRun: true }),
      run('rerun-of-failed', 4, { duplicateStart: true }),
    ] },
    { day: 2, advanceDays: 2, hidden: NO_HIDDEN_CHANGES, changesBefore: [changes(rng, shape.companies)], executions: [
      run('schedule', 5, { midRun: [mid('mutate')], changesAfter: [changes(rng, shape.companies)] }),
      { ...run('operator', 6), input: operatorInput(rng, shape.companies) },
    ] },
  ];
  // Copy mode with load continuations, so COPY INTO's lost answers and Load's checkpoints are armed too.
  return withHiddenChangesAndReconcile({ ...base, days, rerunFailedAtEnd: true, loadMode: 'copy', loadStatementsPerInvocation: 16 }, shape);
}
