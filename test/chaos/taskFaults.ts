// Lambda failures the state machine sees, injected around the real handlers (runLocalSync's wrapTask):
// an invocation that did all of its work (ledger, S3, warehouse, watermarks) and then died before its
// answer reached Step Functions — the hardest case, since a retry or a rerun repeats finished work — and
// one killed before it did anything. The error's name decides what the state machine does with it:
// TransientError and Lambda.ServiceException are retried by the Task's Retry, anything else is caught
// (Extract, Load, Commit: the unit or table fails and a rerunOf replays it; GroupByTable and the
// RecordFailure steps: FinishStoppedRun fails the unfinished units and a rerunOf replays them) or fails
// the execution with its run still open (FinishRun, FinishStoppedRun: a rerunOf closes the run and
// replays; Plan: nothing to replay, a plain rerun recovers).
import type { TaskHandler } from '../../infra/local/runLocalSync.ts';
import { inLambda } from './awsFaults.ts';

export const TASK_STATES = ['Plan', 'Extract', 'RecordExtractFailure', 'GroupByTable', 'Load', 'Commit', 'RecordTableFailure', 'FinishRun'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

export const LAMBDA_ERRORS = ['Lambda.Unknown', 'Sandbox.Timedout', 'TransientError', 'Lambda.ServiceException'] as const;

export interface TaskFaultSpec {
  state: TaskStateName;
  /** crash-after: the handler runs to completion, then the invocation fails; kill-before: it never runs. */
  mode: 'crash-after' | 'kill-before';
  /** The error name Step Functions sees. */
  error: (typeof LAMBDA_ERRORS)[number];
  /** From the nth invocation of the state in this execution (1-based; retries count). */
  nth: number;
  /** Consecutive invocations that fail. */
  count: number;
}

/** One execution's task faults: pass `wrap` as runLocalSync's wrapTask. */
export class TaskFaultInjector {
  readonly fired: string[] = [];
  private readonly invocations = new Map<string, number>();

  constructor(private readonly faults: readonly TaskFaultSpec[]) {}

  readonly wrap = (state: string, handler: TaskHandler): TaskHandler => {
    const faults = this.faults.filter((f) => f.state === state);
    return async (input) => {
      const n = (this.invocations.get(state) ?? 0) + 1;
      this.invocations.set(state, n);
      const fault = faults.find((f) => n >= f.nth && n < f.nth + f.count);
      if (fault?.mode === 'kill-before') {
        this.fired.push(`${state}#${n} ${fault.mode} ${fault.error}`);
        throw lambdaError(fault, state);
      }
      const output = await inLambda.run(true, () => handler(input));
      if (fault) {
        this.fired.push(`${state}#${n} ${fault.mode} ${fault.error}`);
        throw lambdaError(fault, state);
      }
      return output;
    };
  };
}

function lambdaError(fault: TaskFaultSpec, state: string): Error {
  const message =
    fault.mode === 'crash-after'
      ? `chaos: the ${state} invocation finished its work but its process died before answering`
      : `chaos: the ${state} invocation was killed before it started`;
  return Object.assign(new Error(message), { name: fault.error });
}
