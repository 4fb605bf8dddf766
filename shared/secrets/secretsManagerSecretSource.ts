// SecretSource over AWS Secrets Manager, cached per warm Lambda: a secret is fetched at most once per
// maxAgeMs (so a rotated secret is picked up within that time), and concurrent reads of the same secret
// share one request. A failed read is not cached.
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../config/configError.ts';
import { SecretAccessError, SecretNotFoundError, type SecretSource } from './secretSource.ts';

/** The one call this adapter makes; a SecretsManagerClient satisfies it. */
export interface GetSecretValueSender {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

export interface SecretsManagerSecretSourceOptions {
  client: GetSecretValueSender;
  /** How long a fetched secret is reused (ms); default 5 minutes. */
  maxAgeMs?: number;
  now?: () => number;
}

const DEFAULT_SECRET_MAX_AGE_MS = 5 * 60_000;

const ACCESS_ERRORS: Readonly<Record<string, string>> = {
  AccessDeniedException: "the function's role lacks secretsmanager:GetSecretValue on it",
  DecryptionFailure: "its KMS key cannot be used by the function's role (kms:Decrypt)",
  InvalidRequestException: 'Secrets Manager refused the request (is the secret scheduled for deletion?)',
};

export class SecretsManagerSecretSource implements SecretSource {
  private readonly client: GetSecretValueSender;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { value: string; fetchedAtMs: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(options: SecretsManagerSecretSourceOptions) {
    this.client = options.client;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SECRET_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  async getSecretString(name: string): Promise<string> {
    const cached = this.cache.get(name);
    if (cached !== undefined && this.now() - cached.fetchedAtMs < this.maxAgeMs) return cached.value;
    let pending = this.inFlight.get(name);
    if (pending === undefined) {
      pending = this.fetch(name).finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, pending);
    }
    return pending;
  }

  private async fetch(name: string): Promise<string> {
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (error) {
      const errorName = (error as { name?: string }).name ?? '';
      if (errorName === 'ResourceNotFoundException') throw new SecretNotFoundError(name, 'Secrets Manager', { cause: error });
      const reason = ACCESS_ERRORS[errorName];
      if (reason !== undefined) throw new SecretAccessError(name, `${reason} (${errorName})`, { cause: error });
      throw error;
    }
    if (output.SecretString === undefined) {
      throw new ConfigError(`secret "${name}" holds binary data; store its JSON as the secret string (plaintext) instead`);
    }
    this.cache.set(name, { value: output.SecretString, fetchedAtMs: this.now() });
    return output.SecretString;
  }
}
