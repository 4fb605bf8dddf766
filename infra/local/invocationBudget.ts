// Test seams of the local sync (LocalSyncTestHooks.miCallsPerExtract, loadStatementsPerInvocation): Lambda's
// time limit made deterministic. An Extract invocation runs in its own budget context; its MI client refuses
// the call past the budget with the DeadlineExceededError Lambda's remaining time would cause, so the unit
// continues from its checkpoint in the next invocation. A Load invocation's loader sees a deadline that each
// statement moves a nominal minute closer, so loads continue the same way.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiExecutor } from '../../shared/extract/miExecutor.ts';
import type { WarehouseSession } from '../../shared/load/loadTypes.ts';
import type { TableLoader } from '../../shared/pipeline/pipelineDeps.ts';
import { Deadline, DeadlineExceededError } from '../../shared/runtime/deadline.ts';

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

/**
 * A loader whose invocations run out of time after `statements` statements, deterministically: each statement
 * spends a nominal minute of the deadline the loader sees (what a slow warehouse does to a 15-minute Lambda).
 */
export function budgetedLoader(loader: TableLoader, statements: number | undefined): TableLoader {
  if (!statements) return loader;
  return (request) => {
    let used = 0;
    const warehouse: WarehouseSession = {
      get stats() {
        return request.warehouse.stats;
      },
      execute: (sql, params, callOptions) => {
        used += 1;
        return request.warehouse.execute(sql, params, callOptions);
      },
      close: () => request.warehouse.close(),
      ...(request.warehouse.workspace ? { workspace: request.warehouse.workspace } : {}),
    };
    const outer = request.deadline ?? Deadline.none();
    const deadline = Deadline.measuredBy(() => Math.min(outer.remainingMs(), (statements - used) * 60_000));
    return loader({ ...request, warehouse, deadline });
  };
}
