// Where credentials come from: Secrets Manager in AWS, a local folder for the local sync and tests.
// A secret's value never appears in an error message, a log line or a state item.

export interface SecretSource {
  /** The secret's text; rejects with SecretNotFoundError or SecretAccessError. */
  getSecretString(name: string): Promise<string>;
}

export class SecretNotFoundError extends Error {
  override name = 'SecretNotFoundError';
  constructor(
    readonly secretName: string,
    /** Where it was looked for, e.g. "Secrets Manager" or a folder. */
    readonly where: string,
  ) {
    super(`secret "${secretName}" does not exist in ${where}; create it or fix the secret name in the configuration`);
  }
}

/** The secret exists but cannot be read: missing permission, KMS key access, or a deleted secret. */
export class SecretAccessError extends Error {
  override name = 'SecretAccessError';
  constructor(
    readonly secretName: string,
    message: string,
  ) {
    super(`secret "${secretName}" cannot be read: ${message}`);
  }
}
