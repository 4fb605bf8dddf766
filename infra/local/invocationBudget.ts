// A test seam of the local sync (LocalSyncTestHooks.miCallsPerExtract): Lambda's time limit made
// deterministic. An Extract invocation runs in its own budget context; its MI client refuses the call past
// the budget with the DeadlineExceededError Lambda's remaining time would cause, so the unit continues from
// its checkpoint in the next invocation.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiExecutor } from '../../shared/extract/miExecutor.ts';
import { DeadlineExceededError } from '../../shared/runtime/deadline.ts';

const invocationBudget = new AsyncLocalStorage<{ calls: number }>();

/** Runs one Extract invocation with a fresh budget. */
export function withInvocationBudget<T>(fn: () => Promise<T>): Promise<T> {
  return invocationBudget.run({ calls: 0 }, fn);
}

/** The MI client, counting the calls of the invocation it runs in (unchanged without a budget). */
export function budgeted(mi: MiExecutor, callsPerInvocation: number | undefined): MiExecutor {
  if (!callsPerInvocation) return mi;
  return {
    execute(request, options) {
      const budget = invocationBudget.getStore();
      if (budget && budget.calls++ >= callsPerInvocation) {
        return Promise.reject(new DeadlineExceededError(`${request.program}/${request.transaction} (local invocation budget)`, 1, 0));
      }
      return mi.execute(request, options);
    },
  };
}
