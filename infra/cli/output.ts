// What the CLI prints where: results on stdout (the last line of a command is its JSON summary),
// progress and logs on stderr, and errors as one clear line with no stack trace and no secret.
import { logger, routeLogsToStderr } from '../../shared/observability/logger.ts';

const USER_ERRORS = new Set([
  'ConfigError', 'IonApiFileError', 'IonAuthError', 'MiError', 'MiProtocolError', 'TransientError', 'DeadlineExceededError',
  'ExtractionError', 'DuplicateKeyError', 'CursorStuckError', 'ExportResultError', 'ReadCapReachedError', 'StagedDataError',
  'UsageError', 'BlobNotFoundError', 'LocalStateError',
  // Found by test/hostile: these carry a complete message for the user (entity, key, field, what to do) but
  // were printed as "unexpected error".
  'BlankKeyError', 'RecordValueError', 'LoadError',
]);

export class UsageError extends Error {
  override name = 'UsageError';
}

export function setUpCliOutput(verbose: boolean): void {
  routeLogsToStderr();
  if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel(verbose ? 'INFO' : 'WARN');
  // `... | head` closes stdout early: stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function result(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a command action; known failures print one line and exit 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (error) {
      const e = error as Error;
      if (e && USER_ERRORS.has(e.name)) {
        process.stderr.write(`error: ${e.message}\n`);
      } else {
        process.stderr.write(`unexpected error: ${e?.message ?? String(error)}\n`);
        if (process.env.CLOUDSUITE_SYNC_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
      }
      process.exitCode = 1;
    }
  };
}
