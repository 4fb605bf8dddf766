// Typed errors of M3 MI calls. Each names the program/transaction and what to do; none carries a token.
// MiError and MiHttpError are final (retrying will not help); MiProtocolError is retried by the MI client
// when it looks like a transport fault; TransientError means "retry later" to the orchestrator.
import { SyncError } from '../errors/syncError.ts';
import { safeText } from '../observability/redaction.ts';

import { TransientError } from '../http/transientError.ts';

export { TransientError };

export interface MiErrorDetails {
  program: string;
  transaction: string;
  /** MI error code, e.g. XAU0008 or WCU0203. */
  code?: string;
  /** The input field M3 blames, e.g. CONO. */
  field?: string;
  /** M3's own message, trailing blanks trimmed. */
  miMessage: string;
  /** e.g. ServerReturnedNOK. */
  errorType?: string;
  /** HTTP status of the answer (200 for a NOK inside a result, 400 for a failing single call). */
  status: number;
}

function advice(details: MiErrorDetails): string {
  if (details.code === 'XAU0008') {
    return "the service account is not authorised for this company: check the company number and the user's company/division access in M3";
  }
  if (details.field !== undefined) {
    return `check ${details.field}: its input value, or whether the transaction has such an input or output (returncols) field`;
  }
  return 'check the inputs and the M3 configuration; retrying will not help';
}

/**
 * M3's own messages are short (a line of a 5250 screen); a longer one is not M3's. Kept masked and bounded
 * like the error's message: the message of a NOK is text a gateway or server chose, and may echo a token.
 */
const MAX_MI_MESSAGE_CHARS = 500;

/** M3 answered NOK (an error code/message, a terminated transaction, or a failed transaction count). */
export class MiError extends SyncError {
  override name = 'MiError';
  readonly program: string;
  readonly transaction: string;
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly miMessage: string;
  readonly errorType: string | undefined;
  readonly status: number;

  constructor(received: MiErrorDetails) {
    const details: MiErrorDetails = {
      ...received,
      miMessage: safeText(received.miMessage, MAX_MI_MESSAGE_CHARS),
      ...(received.code === undefined ? {} : { code: safeText(received.code, 40) }),
      ...(received.field === undefined ? {} : { field: safeText(received.field, 40) }),
      ...(received.errorType === undefined ? {} : { errorType: safeText(received.errorType, 80) }),
    };
    const where = details.field === undefined ? '' : ` on field ${details.field}`;
    const code = details.code === undefined ? '' : ` ${details.code}`;
    const said = details.miMessage === '' ? '' : `: "${details.miMessage}"`;
    super(`${details.program}/${details.transaction}: M3 answered NOK${code}${where}${said}; ${advice(details)}`);
    this.program = details.program;
    this.transaction = details.transaction;
    this.code = details.code;
    this.field = details.field;
    this.miMessage = details.miMessage;
    this.errorType = details.errorType;
    this.status = details.status;
  }
}

/**
 * The gateway gave up on the call (504) or the attempt timed out, handed back to a caller that asked for
 * it (MiCallOptions.slowAnswers 'hand-back') instead of being retried the same way: EXPORTMI asks again
 * for a smaller page. Transient, should it travel further.
 */
export class MiSlowAnswerError extends TransientError {
  override name = 'MiSlowAnswerError';
}

/** The answer is not MI's v2 JSON: a truncated or garbled body (retryable) or a shape M3 never sends (not). */
export class MiProtocolError extends SyncError {
  override name = 'MiProtocolError';
  constructor(
    readonly program: string,
    readonly transaction: string,
    readonly problem: string,
    /** True when a new attempt may get a good answer (truncated or garbled body). */
    readonly retryable: boolean,
  ) {
    super(
      `${program}/${transaction}: unexpected response from the M3 MI API: ${problem}; ` +
        (retryable
          ? 'this is usually a transport fault: if it persists, check that the API base URL points at the ION API gateway'
          : 'report this with the program and transaction: the answer breaks the MI contract'),
    );
  }
}

/** The gateway refused the call with an HTTP status that retrying will not fix (403, 404, 405, a 400 without an MI error). */
export class MiHttpError extends SyncError {
  override name = 'MiHttpError';
  constructor(
    readonly program: string,
    readonly transaction: string,
    readonly status: number,
  ) {
    super(`${program}/${transaction}: the ION API gateway answered HTTP ${status}; ${MiHttpError.advice(status)}`);
  }

  private static advice(status: number): string {
    switch (status) {
      case 403:
        return 'the authorized app or service account may not call M3: check its ION API permissions';
      case 404:
        return 'check the program and transaction names and the API base URL ("iu" and "ti" in the .ionapi file)';
      case 405:
        return 'the gateway does not allow this method on this path: check the API base URL';
      default:
        return 'check the request (program, transaction, inputs) and the .ionapi file';
    }
  }
}
