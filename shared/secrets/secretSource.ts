// Where credentials come from: Secrets Manager in AWS, a local folder for the local sync and tests.
// A secret's value never appears in an error message, a log line or a state item.
import { SyncError } from '../errors/syncError.ts';

export interface SecretSource {
  /** The secret's text; rejects with SecretNotFoundError or SecretAccessError. */
  getSecretString(name: string): Promise<string>;
}

export class SecretNotFoundError extends SyncError {
  override name = 'SecretNotFoundError';
  constructor(
    readonly secretName: string,
    /** Where it was looked for, e.g. "Secrets Manager" or a folder. */
    readonly where: string,
    options?: ErrorOptions,
  ) {
    super(`secret "${secretName}" does not exist in ${where}; create it or fix the secret name in the configuration`, options);
  }
}

/** The secret exists but cannot be read: missing permission, KMS key access, or a deleted secret. */
export class SecretAccessError extends SyncError {
  override name = 'SecretAccessError';
  constructor(
    readonly secretName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`secret "${secretName}" cannot be read: ${message}`, options);
  }
}
