// Answers refused as they are, whatever the status: a redirect (following it would re-send credentials to
// an address nobody configured) and an answer larger than the caller accepts (reading it could exhaust a
// Lambda's memory). Neither is transient: the same call would get the same answer.
import { SyncError } from '../errors/syncError.ts';

/** Where a URL points, without its query (MI inputs, which could be long or sensitive). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(an unreadable URL)';
  }
}

function resolve(location: string, base: string): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}

/** The server answered with a redirect: never followed, because a followed 307/308 re-sends the body and headers. */
export class RedirectRefusedError extends SyncError {
  override name = 'RedirectRefusedError';
  constructor(
    readonly operation: string,
    readonly url: string,
    readonly status: number,
    location: string | null,
  ) {
    super(
      `${operation}: ${describeUrl(url)} answered HTTP ${status} redirecting to ${location ? describeUrl(resolve(location, url)) : '(no location)'}; ` +
        'redirects are not followed, so no credential or token was sent there. If the new address is the real one, put it into ' +
        'the .ionapi file ("pu"/"ot"/"or" for tokens, "iu" for API calls); otherwise look for a proxy or DNS entry diverting the calls',
    );
  }
}

/** The answer is larger than the caller's limit (declared by Content-Length, or counted while streaming). */
export class ResponseTooLargeError extends SyncError {
  override name = 'ResponseTooLargeError';
  constructor(
    readonly operation: string,
    readonly limitBytes: number,
    /** Content-Length when it was declared; otherwise the bytes read when the limit was passed. */
    readonly sizeBytes: number,
    declared: boolean,
    advice: string,
  ) {
    super(
      `${operation}: the answer is ${declared ? `${sizeBytes} bytes (Content-Length)` : `more than ${limitBytes} bytes (stopped reading there)`}, ` +
        `above the ${limitBytes}-byte limit; nothing was taken from it. ${advice}`,
    );
  }
}
