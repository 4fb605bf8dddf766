// Errors crossing the Lambda / Step Functions boundary: transient ones leave under the one name the state
// machine retries, with what they were still in the message; a Catch's {Error, Cause} comes back as an Error.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/config/configError.ts';
import { TransientError } from '#shared/http/transientError.ts';
import { WarehouseUnavailableError } from '#shared/load/loadErrors.ts';
import { errorFromCaught, RETRIED_TASK_ERROR, taskErrorOf } from '#shared/pipeline/taskError.ts';
import { LeaseUnavailableError } from '#shared/state/tableLease.ts';

/** What Step Functions receives from a Lambda that threw `error` (the Node.js runtime's error response). */
function asCaught(error: Error): { Error: string; Cause: string } {
  return { Error: error.name, Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') }) };
}

describe('taskErrorOf', () => {
  it.each([
    ['LeaseUnavailableError', new LeaseUnavailableError('main.cloudsuite.suppliers', 'exec-2', 600_000, undefined)],
    ['WarehouseUnavailableError', new WarehouseUnavailableError('warehouse answered HTTP 503 to "MERGE INTO…"', undefined)],
  ])('sends a transient %s under the retried name, keeping its class and message in the Cause', (name, original) => {
    const thrown = taskErrorOf(original) as Error;
    expect(thrown.name).toBe(RETRIED_TASK_ERROR);
    expect(thrown.message).toBe(`${name}: ${original.message}`);
    expect(thrown.cause).toBe(original);
    const recorded = errorFromCaught(asCaught(thrown));
    expect([recorded.name, recorded.message]).toEqual([RETRIED_TASK_ERROR, `${name}: ${original.message}`]);
  });

  it('leaves a TransientError and every other error as they are', () => {
    const transient = new TransientError('CRS620MI/LstSuppliers: HTTP 503 persisted after 5 attempts', { operation: 'CRS620MI/LstSuppliers', attempts: 5 });
    const config = new ConfigError('execution input: flows: unknown flow "x"');
    const foreign = new TypeError('x is not a function');
    expect(taskErrorOf(transient)).toBe(transient);
    expect(taskErrorOf(config)).toBe(config);
    expect(taskErrorOf(foreign)).toBe(foreign);
  });
});

describe('errorFromCaught', () => {
  // (Name and message kept, trace dropped: test/pipeline/steps.test.ts, through RecordFailure.)
  it('names a failure Step Functions reported without an error or cause', () => {
    expect([errorFromCaught(undefined).name, errorFromCaught(undefined).message]).toEqual(['Error', 'failed without a message']);
    expect([errorFromCaught({ Error: 'States.Timeout' }).name, errorFromCaught({ Error: 'States.Timeout' }).message]).toEqual(['States.Timeout', 'failed without a message']);
  });
});
