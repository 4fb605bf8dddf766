// How errors cross the boundary between a step's Lambda and the state machine. Going out, Step Functions
// sees a thrown error's name as its Error and retries only the names a Task's Retry lists: every transient
// error leaves under the one name listed, so a new transient class needs no change to the state machine.
// Coming back (a Catch's {Error, Cause}), the failure becomes an Error again for the ledger.
import { isTransient, SyncError } from '../errors/syncError.ts';

/** The error name the state machine retries for our code (besides Lambda's own service errors). */
export const RETRIED_TASK_ERROR = 'TransientError';

/** A transient error of another class, as it leaves the Lambda: retried by name, its own name kept in the message. */
class RetriedTaskError extends SyncError {
  override name = RETRIED_TASK_ERROR;

  constructor(original: Error) {
    super(`${original.name}: ${original.message}`, { cause: original });
  }

  override get transient(): boolean {
    return true;
  }
}

/**
 * The error a handler throws for `error`: a transient one under RETRIED_TASK_ERROR, its class name and
 * message still in Step Functions' Cause (so the ledger and the console show what it was); any other as it is.
 */
export function taskErrorOf(error: unknown): unknown {
  if (!isTransient(error) || (error as Error).name === RETRIED_TASK_ERROR) return error;
  return new RetriedTaskError(error as Error);
}

/** The error object Step Functions puts at a Catch's ResultPath. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/** A step's failure as Step Functions reported it: named after the step's error, with its message. */
export class StepFailedError extends SyncError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * The failure as an Error: Step Functions' Error is the thrown error's name; a Lambda's Cause is JSON
 * ({errorType, errorMessage, trace}) of which only the message is kept (never the stack).
 */
export function errorFromCaught(caught: CaughtError | undefined): StepFailedError {
  return new StepFailedError(caught?.Error || 'Error', messageOf(caught?.Cause));
}

function messageOf(cause: string | undefined): string {
  if (!cause) return 'failed without a message';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return cause;
}
