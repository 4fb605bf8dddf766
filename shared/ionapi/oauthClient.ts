// The OAuth 2.0 calls of an ION API backend-service app: password grant with the service account (or the
// client credentials grant for apps without one), refresh grant, revoke. Transient failures are retried under the shared retry policy, one attempt at a
// time; refusals become IonAuthError naming what to check. Nothing here logs or reports a secret or a token.
import ky from 'ky';
import * as z from 'zod';
import { discardBody, HttpAttempt, readAtMost } from '../http/httpAttempt.ts';
import { DEFAULT_RETRY_POLICY, failureOfStatus, RetrySchedule, type RetryPolicy } from '../http/retryPolicy.ts';
import { Deadline } from '../runtime/deadline.ts';
import { logger, type Log } from '../observability/logger.ts';
import { registerSecret } from '../observability/redaction.ts';
import { IonAuthError, type IonAuthStep } from './errors.ts';
import type { IonApiConfig } from './ionApiFile.ts';

/** A token endpoint answer. */
export interface TokenGrant {
  accessToken: string;
  /** Only when the app has "Issue Refresh Tokens" on; a refresh answer may omit it. */
  refreshToken?: string;
  expiresInSeconds: number;
}

export interface OAuthClientOptions {
  config: IonApiConfig;
  log?: Log;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout (real ms). */
  attemptTimeoutMs?: number;
  /** Assumed lifetime when a token answer has no expires_in (conservative; Infor's default is 7200 s). */
  defaultExpiresInSeconds?: number;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
});

/** A token answer is a few hundred bytes; a refusal's body is read only for its OAuth error code. */
const TOKEN_ANSWER_LIMIT = { maxBytes: 1024 * 1024, advice: 'this is not an OAuth token answer: check "pu" and "ot" in the .ionapi file' };
const REFUSAL_BODY_BYTES = 64 * 1024;

const STEP_LABEL: Record<IonAuthStep, string> = {
  'password-grant': 'token request (password grant)',
  'client-credentials-grant': 'token request (client credentials grant)',
  'refresh-grant': 'token refresh (refresh grant)',
  revoke: 'token revocation',
  'api-call': 'API call',
};

export class OAuthClient {
  private readonly config: IonApiConfig;
  private readonly log: Log;
  private readonly policy: RetryPolicy;
  private readonly attemptTimeoutMs: number;
  private readonly defaultExpiresInSeconds: number;

  constructor(options: OAuthClientOptions) {
    this.config = options.config;
    this.log = options.log ?? logger;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
    this.defaultExpiresInSeconds = options.defaultExpiresInSeconds ?? 3600;
  }

  /** grant_type=password with the service account keys; client credentials in the form body. */
  async passwordGrant(deadline: Deadline = Deadline.none()): Promise<TokenGrant> {
    const { serviceAccountAccessKey: username, serviceAccountSecretKey: password } = this.config;
    if (username === undefined || password === undefined) {
      throw new IonAuthError(
        `ION API ${STEP_LABEL['password-grant']} for tenant ${this.config.tenant}: the .ionapi file "${this.config.source}" has no service account (saak, sask)`,
        'password-grant',
      );
    }
    const form = new URLSearchParams({
      grant_type: 'password',
      username,
      password,
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
    });
    return this.parseGrant('password-grant', await this.post('password-grant', this.config.tokenUrl, form, false, deadline));
  }

  /** grant_type=client_credentials (apps without a service account); client credentials in the form body. */
  async clientCredentialsGrant(deadline: Deadline = Deadline.none()): Promise<TokenGrant> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret });
    const step = 'client-credentials-grant';
    return this.parseGrant(step, await this.post(step, this.config.tokenUrl, form, false, deadline));
  }

  /** grant_type=refresh_token; client credentials as HTTP Basic. */
  async refreshGrant(refreshToken: string, deadline: Deadline = Deadline.none()): Promise<TokenGrant> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return this.parseGrant('refresh-grant', await this.post('refresh-grant', this.config.tokenUrl, form, true, deadline));
  }

  /** Revokes a token (revoking a refresh token also revokes its access tokens). */
  async revoke(
    token: string,
    hint: 'refresh_token' | 'access_token' = 'refresh_token',
    deadline: Deadline = Deadline.none(),
  ): Promise<void> {
    const url = this.config.revokeUrl;
    if (url === undefined) {
      throw new IonAuthError(
        `ION API token revocation for tenant ${this.config.tenant}: the .ionapi file "${this.config.source}" has no "or" (revoke path)`,
        'revoke',
      );
    }
    await this.post('revoke', url, new URLSearchParams({ token, token_type_hint: hint }), true, deadline);
  }

  private async post(
    step: IonAuthStep,
    url: string,
    form: URLSearchParams,
    basicAuth: boolean,
    deadline: Deadline,
  ): Promise<string> {
    const operation = `ION API ${STEP_LABEL[step]}`;
    deadline.assertTime(operation);
    const schedule = new RetrySchedule({ operation, policy: this.policy, deadline, log: this.log });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (basicAuth) {
      const basic = Buffer.from(`${this.config.clientId}:${this.config.clientSecret}`, 'utf8').toString('base64');
      headers.authorization = `Basic ${basic}`;
    }
    // A token request is safe to repeat.
    return schedule.run(async () => {
      const http = new HttpAttempt(schedule, { timeoutMs: this.attemptTimeoutMs });
      const sent = await http.send((once) => ky.post(url, { ...once, body: form, headers }));
      if (sent.kind !== 'response') return sent;
      const { response } = sent;
      if (!response.ok) {
        const failure = failureOfStatus(response);
        if (failure) {
          await discardBody(response);
          return schedule.afterFailure(failure);
        }
        // Read within the attempt's bounds and a size limit; a refusal whose body does not arrive is reported without its code.
        const text = await readAtMost(response, REFUSAL_BODY_BYTES);
        return { kind: 'give-up', error: this.refusal(step, response.status, text) };
      }
      const read = await http.body(response, TOKEN_ANSWER_LIMIT);
      if (read.kind !== 'body') return read;
      return { kind: 'answered', value: new TextDecoder().decode(read.bytes) };
    });
  }

  /** A 4xx from the token endpoint: says what to check, using only the OAuth error code. */
  private refusal(step: IonAuthStep, status: number, text: string): IonAuthError {
    const body = safeJson(text);
    const rawCode = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    // Only a plain OAuth code is echoed: descriptions are free text and could repeat a credential.
    const code = typeof rawCode === 'string' && /^[a-z_]{1,64}$/.test(rawCode) ? rawCode : undefined;
    const { tenant, source } = this.config;
    const what = `ION API ${STEP_LABEL[step]} for tenant ${tenant} was refused (HTTP ${status}${code ? `, ${code}` : ''})`;
    let advice: string;
    if (code === 'invalid_client') {
      advice = `check the client id (ci) and client secret (cs) in the .ionapi file "${source}"; the authorized app may have been deleted or its secret regenerated`;
    } else if (code === 'invalid_grant' && step === 'client-credentials-grant') {
      advice = `the client credentials in "${source}" were refused for this grant: download a new .ionapi file`;
    } else if (code === 'invalid_grant' && step === 'password-grant') {
      advice = `the service account keys (saak, sask) in "${source}" were rejected; the service account may have been deleted or its keys regenerated: download a new .ionapi file`;
    } else if (code === 'invalid_grant') {
      advice = 'the refresh token has expired or was revoked; a new password grant is needed';
    } else if ((code === 'unauthorized_client' || code === 'unsupported_grant_type') && step === 'client-credentials-grant') {
      advice = `the authorized app does not allow the client credentials grant: the .ionapi file "${source}" has no service account (saak, sask), so it must belong to a "Backend Service" app issued for client credentials; otherwise download the file of an app with a service account`;
    } else if (code === 'unauthorized_client' || code === 'unsupported_grant_type') {
      advice = 'the authorized app does not allow this grant: it must be a "Backend Service" app with a service account';
    } else if (status === 404 || status === 405) {
      advice = `check "pu", "ot" and "or" in the .ionapi file "${source}"`;
    } else {
      advice = `check that the .ionapi file "${source}" belongs to this tenant and its authorized app is active`;
    }
    return new IonAuthError(`${what}: ${advice}`, step, status, code);
  }

  private parseGrant(step: IonAuthStep, text: string): TokenGrant {
    const parsed = tokenResponseSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new IonAuthError(
        `ION API ${STEP_LABEL[step]} for tenant ${this.config.tenant}: the token endpoint answered without a usable access_token; ` +
          `check that "pu" and "ot" in "${this.config.source}" point at the ION authorization server`,
        step,
        200,
      );
    }
    const { access_token, refresh_token, expires_in } = parsed.data;
    // Masked by value before anything can echo them back (a gateway's NOK message, a log line).
    registerSecret(access_token);
    registerSecret(refresh_token);
    return {
      accessToken: access_token,
      ...(refresh_token === undefined ? {} : { refreshToken: refresh_token }),
      expiresInSeconds: expires_in ?? this.defaultExpiresInSeconds,
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
