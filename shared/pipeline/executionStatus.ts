// Whether a Step Functions execution is still running. A `rerunOf` an execution whose run is still open
// asks this: an execution that ended without closing its run (Plan or FinishRun failed for good, or it
// was aborted or timed out) has its run closed by the rerun, instead of the rerun being refused.
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'GONE';

export interface ExecutionRef {
  /** The state machine's ARN ($$.StateMachine.Id of the asking execution: reruns run on the same one). */
  stateMachineArn?: string;
  name: string;
}

export interface ExecutionStatusSource {
  /** GONE: no such execution (never started there, or older than the service keeps). */
  statusOf(execution: ExecutionRef): Promise<ExecutionStatus>;
}

/** Still running, or about to run again (a redrive): its units may still move. */
export function isLive(status: ExecutionStatus): boolean {
  return status === 'RUNNING' || status === 'PENDING_REDRIVE';
}

/** The local runner's executions: one process runs them, so any not running in it has ended. */
export class InProcessExecutions implements ExecutionStatusSource {
  private readonly running = new Set<string>();

  async track<T>(name: string, run: () => Promise<T>): Promise<T> {
    this.running.add(name);
    try {
      return await run();
    } finally {
      this.running.delete(name);
    }
  }

  async statusOf(execution: ExecutionRef): Promise<ExecutionStatus> {
    return this.running.has(execution.name) ? 'RUNNING' : 'GONE';
  }
}
