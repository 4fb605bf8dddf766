// What the CLI prints where: results on stdout (the last line of a command is its JSON summary),
// progress and logs on stderr, and errors as one clear line with no stack trace and no secret.
import { SyncError } from '../../shared/errors/syncError.ts';
import { logger, routeLogsToStderr } from '../../shared/observability/logger.ts';
import { redact, safeText } from '../../shared/observability/redaction.ts';

/** The command was called wrongly (an option, a file argument): its message says how to call it. */
export class UsageError extends SyncError {
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
  process.stderr.write(`${safeText(line)}\n`);
}

/** Results (a catalog entry, query rows) are not cut short; a secret in them is still masked. */
export function result(line: string): void {
  process.stdout.write(`${redact(line)}\n`);
}

/**
 * Runs a command action; our errors (SyncError: each names what failed and what to do) print one line and
 * exit 1, anything else is reported as unexpected, with its stack when CLOUDSUITE_SYNC_DEBUG is set.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (error) {
      const e = error as Error;
      // Ours are masked and bounded when built; a foreign error may carry anything a server sent.
      if (error instanceof SyncError) {
        process.stderr.write(`error: ${safeText(e.message)}\n`);
      } else {
        process.stderr.write(`unexpected error: ${safeText(e?.message ?? String(error))}\n`);
        if (process.env.CLOUDSUITE_SYNC_DEBUG) process.stderr.write(`${safeText(e?.stack ?? '', 20_000)}\n`);
      }
      process.exitCode = 1;
    }
  };
}
