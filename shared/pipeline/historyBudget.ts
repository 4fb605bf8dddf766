// How many Step Functions history events an execution of the pipeline state machine produces, so Plan can
// refuse a run that would hit the 25,000-event limit instead of failing hours into it. Counts per state
// type of a Standard workflow (AWS docs, "Step Functions history events"):
//   Lambda Task: TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded,
//                TaskStateExited = 5 (a retried attempt adds Scheduled, Started, Failed = 3)
//   Choice, Pass, Succeed: Entered + Exited = 2; inline Map: Entered, Started, Succeeded, Exited = 4 and
//   MapIterationStarted + MapIterationSucceeded = 2 per item; the execution: Started + Succeeded/Failed = 2.
// infra/local/historyEvents.ts converts a local (aws-local-stepfunctions) event log with the same rules,
// and test/pipeline checks this formula against real local executions.

const HISTORY_EVENT_LIMIT = 25_000;
/** What Plan may spend up front: the rest is left for continuations, retries and failures. */
export const PLANNING_EVENT_BUDGET = 20_000;

const EVENTS = {
  lambdaTask: 5,
  retriedAttempt: 3,
  choice: 2,
  pass: 2,
  succeedOrFail: 2,
  map: 4,
  mapIteration: 2,
  execution: 2,
} as const;

/** Plan, IsDuplicate, two Maps, GroupByTable, RefreshMarts, FinishRun, RunOutcome, the end state, the execution. */
const FIXED_EVENTS =
  EVENTS.execution + EVENTS.lambdaTask + EVENTS.choice + 2 * EVENTS.map + EVENTS.lambdaTask + EVENTS.lambdaTask + EVENTS.lambdaTask + EVENTS.choice + EVENTS.succeedOrFail;
/** A unit extracted in one invocation: iteration + Extract + its Choice + the closing Pass. */
const EVENTS_PER_UNIT = EVENTS.mapIteration + EVENTS.lambdaTask + EVENTS.choice + EVENTS.pass;
/** Each continuation of an extraction: another Extract and Choice. */
export const EVENTS_PER_CONTINUATION = EVENTS.lambdaTask + EVENTS.choice;
/** A table: iteration + Load + its Choice + Commit + the closing Pass. */
export const EVENTS_PER_TABLE = EVENTS.mapIteration + 2 * EVENTS.lambdaTask + EVENTS.choice + EVENTS.pass;
/** Each continuation of a load: another Load and Choice. */
export const EVENTS_PER_LOAD_CONTINUATION = EVENTS.lambdaTask + EVENTS.choice;
/** A unit that fails (caught): RecordExtractFailure instead of the Choice. */
const EVENTS_PER_FAILED_UNIT = EVENTS.mapIteration + EVENTS.lambdaTask + EVENTS.lambdaTask + EVENTS.pass;

export interface HistoryShape {
  units: number;
  tables: number;
  /** Extract invocations beyond the first, over all units. */
  continuations?: number;
  /** Load invocations beyond the first, over all tables. */
  loadContinuations?: number;
  retries?: number;
  /** Units whose extraction failed (caught, recorded): counted instead of as extracted units. */
  failedUnits?: number;
  /** Tables whose Load failed (caught, recorded): no LoadFinished Choice. */
  failedTables?: number;
  /** Ending in the Fail state writes one event less than ending in Succeed (no exit event). */
  endsFailed?: boolean;
}

export function estimateHistoryEvents(shape: HistoryShape): number {
  const failed = shape.failedUnits ?? 0;
  return (
    FIXED_EVENTS -
    (shape.endsFailed ? 1 : 0) +
    (shape.units - failed) * EVENTS_PER_UNIT +
    failed * EVENTS_PER_FAILED_UNIT +
    (shape.continuations ?? 0) * EVENTS_PER_CONTINUATION +
    (shape.loadContinuations ?? 0) * EVENTS_PER_LOAD_CONTINUATION +
    shape.tables * EVENTS_PER_TABLE -
    (shape.failedTables ?? 0) * EVENTS.choice +
    (shape.retries ?? 0) * EVENTS.retriedAttempt
  );
}

/** The continuations (extract or load, 7 events each) an execution of this shape can still afford under the hard limit. */
export function continuationsAllowed(shape: Omit<HistoryShape, 'continuations'>): number {
  return Math.max(0, Math.floor((HISTORY_EVENT_LIMIT - estimateHistoryEvents(shape)) / EVENTS_PER_CONTINUATION));
}
