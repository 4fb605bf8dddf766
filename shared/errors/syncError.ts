// The root of every error this project throws on purpose. Each says what failed and what to do, carries
// the error it wraps as `cause`, and tells by its class whether trying the same work again later may help:
// the Lambda handlers turn a transient error into the one error name the state machine retries
// (shared/pipeline/taskError.ts), and the CLI prints any SyncError as one line, without a stack trace.
// Subclasses set `name` explicitly: the Lambda bundles are minified, so class names are not stable.
// Every message passes through safeText: the secrets this process holds are masked by value and the text is
// bounded, whatever a server echoed into it (so the stack, which repeats the message, is safe too).
import { safeText } from '../observability/redaction.ts';

export abstract class SyncError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message === undefined ? undefined : safeText(message), options);
  }

  /**
   * True when the same work may succeed if it is simply tried again later (a service throttling, busy or
   * briefly down, after the caller's own retries); false when something must change first.
   */
  get transient(): boolean {
    return false;
  }
}

/** Whether `error` is one of ours that retrying later may cure. */
export function isTransient(error: unknown): boolean {
  return error instanceof SyncError && error.transient;
}
