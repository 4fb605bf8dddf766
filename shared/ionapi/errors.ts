// Typed errors of the ION API layer. Messages name the file or the OAuth step and what to check;
// they never carry a client secret, a service-account key or a token.
import { SyncError } from '../errors/syncError.ts';

/** The .ionapi credentials file is missing, unreadable or invalid. */
export class IonApiFileError extends SyncError {
  override name = 'IonApiFileError';
  constructor(
    message: string,
    /** The file name or description passed as `source`. */
    readonly source: string,
    /** The first offending key, when the problem is a field. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type IonAuthStep = 'password-grant' | 'client-credentials-grant' | 'refresh-grant' | 'revoke' | 'api-call';

/** ION API authentication failed in a way retrying will not fix: credentials, app type, or a rejected token. */
export class IonAuthError extends SyncError {
  override name = 'IonAuthError';
  constructor(
    message: string,
    readonly step: IonAuthStep,
    /** HTTP status from the token endpoint or gateway, when there was one. */
    readonly status?: number,
    /** The OAuth `error` code (e.g. invalid_client, invalid_grant), when the server sent one. */
    readonly oauthError?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
