// What every Lambda entry point shares: event validation with a clear error, the logger keys of the
// unit or table being worked on (removed again after the invocation), the invocation's deadline, and
// errors leaving as the state machine expects them.
import * as z from 'zod';
import { ConfigError, configErrorFromZod } from '../../shared/config/configError.ts';
import { logger } from '../../shared/observability/logger.ts';
import { taskErrorOf } from '../../shared/pipeline/taskError.ts';
import { UNIT_ID_FORMAT, UnitRef } from '../../shared/pipeline/unitRef.ts';
import { Deadline } from '../../shared/runtime/deadline.ts';

/** The part of the Lambda context the handlers use (the local sync passes its own). */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export class InvalidEventError extends ConfigError {
  override name = 'InvalidEventError';
}

export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, step: string): z.infer<S> {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const error = configErrorFromZod(`${step} event`, parsed.error);
    throw new InvalidEventError(`${error.message}\n  (the state machine passed an unexpected payload: is the deployed definition current?)`, error.issues, {
      cause: error,
    });
  }
  return parsed.data;
}

/** A unit id in an event: the handlers read flow, company and division out of it for their log lines. */
export const unitIdField = z.string().refine((id) => UnitRef.tryParse(id) !== undefined, `a unit id (${UNIT_ID_FORMAT})`);

/**
 * A step's entry point as Lambda runs it: its errors leave as Step Functions should see them, a transient
 * one under the one name the state machine retries (shared/pipeline/taskError.ts), any other as it is.
 */
export function stepHandler<A extends unknown[], R>(handle: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handle(...args);
    } catch (error) {
      throw taskErrorOf(error);
    }
  };
}

/** Runs fn with temporary logger keys on every line it logs. */
export async function withLogKeys<T>(keys: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  logger.appendKeys(keys);
  try {
    return await fn();
  } finally {
    logger.resetKeys();
  }
}

/** Stop this long before Lambda's timeout, to write part files and the checkpoint. */
export const CHECKPOINT_MARGIN_MS = 60_000;

export function deadlineOf(context: InvocationContext | undefined, marginMs = CHECKPOINT_MARGIN_MS): Deadline {
  return context ? Deadline.fromRemaining(context.getRemainingTimeInMillis(), marginMs) : Deadline.none();
}
