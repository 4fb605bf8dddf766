// The state machine's state names: the CDK definition and the local runner (which overrides Task states
// by name) share them, so a rename cannot leave a Task running against real Lambda locally.
export const StateNames = {
  plan: 'Plan',
  isDuplicate: 'IsDuplicateStart',
  alreadyStarted: 'AlreadyStarted',
  extractUnits: 'ExtractUnits',
  extract: 'Extract',
  extractFinished: 'ExtractFinished',
  unitExtracted: 'UnitExtracted',
  recordExtractFailure: 'RecordExtractFailure',
  unitFailed: 'UnitFailed',
  group: 'GroupByTable',
  loadTables: 'LoadTables',
  load: 'Load',
  loadFinished: 'LoadFinished',
  commit: 'Commit',
  tableCommitted: 'TableCommitted',
  recordTableFailure: 'RecordTableFailure',
  tableFailed: 'TableFailed',
  refreshMarts: 'RefreshMarts',
  martsNotRefreshed: 'MartsNotRefreshed',
  finish: 'FinishRun',
  finishStopped: 'FinishStoppedRun',
  runOutcome: 'RunOutcome',
  runFailed: 'RunFailed',
  runSucceeded: 'RunSucceeded',
} as const;

/** The Task states and the pipeline function each one invokes. */
export const TaskStates = {
  [StateNames.plan]: 'plan',
  [StateNames.extract]: 'extract',
  [StateNames.recordExtractFailure]: 'recordFailure',
  [StateNames.group]: 'groupByTable',
  [StateNames.load]: 'load',
  [StateNames.commit]: 'commit',
  [StateNames.recordTableFailure]: 'recordFailure',
  // The Load function also serves the marts step (functions/load.ts: same warehouse access).
  [StateNames.refreshMarts]: 'load',
  [StateNames.finish]: 'finishRun',
  [StateNames.finishStopped]: 'finishRun',
} as const;

export type PipelineFunctionName = (typeof TaskStates)[keyof typeof TaskStates];
