// Hands out ION API access tokens: reuses one token per tenant until shortly before it expires, renews
// it once for all concurrent callers (single-flight in the process, a TokenCache lock across processes),
// and recovers from a 401 by refresh, then password grant. Infor allows ~20 service-account
// authentications a minute, so a password grant per request or per Lambda is not an option.
import { setTimeout as delay } from 'node:timers/promises';
import { Deadline } from '../runtime/deadline.ts';
import { scaledMs } from '../runtime/timeScale.ts';
import { logger, type Log } from '../observability/logger.ts';
import { registerSecret } from '../observability/redaction.ts';
import { IonAuthError } from './errors.ts';
import type { IonApiConfig } from './ionApiFile.ts';
import { OAuthClient, type TokenGrant } from './oauthClient.ts';
import type { CachedToken, TokenCache } from './tokenCache.ts';

export interface TokenProviderOptions {
  config: IonApiConfig;
  cache: TokenCache;
  /** Renew this long before expiry, at most a tenth of the token's lifetime. Default 300. */
  refreshSkewSeconds?: number;
  log?: Log;
  /** Clock for token freshness (epoch ms). */
  now?: () => number;
  /** The OAuth client; built from `config` when omitted. */
  oauth?: OAuthClient;
  /** How long a renewal may hold the tenant's lock (real ms); a crashed holder frees it after this. */
  lockTtlMs?: number;
  /** Pause between looks at the cache while another process renews (nominal ms, scaled). */
  lockPollMs?: number;
}

export interface TokenStats {
  passwordGrants: number;
  refreshGrants: number;
  /** Grants of a client-credentials app (no service account, no refresh tokens). */
  clientCredentialsGrants: number;
}

export class TokenProvider {
  private readonly config: IonApiConfig;
  private readonly cache: TokenCache;
  private readonly refreshSkewMs: number;
  private readonly log: Log;
  private readonly now: () => number;
  private readonly oauth: OAuthClient;
  private readonly lockTtlMs: number;
  private readonly lockPollMs: number;
  private readonly grants: TokenStats = { passwordGrants: 0, refreshGrants: 0, clientCredentialsGrants: 0 };
  /** This process's copy of the tenant's token, so a fresh token costs no cache read. */
  private current: CachedToken | undefined;
  /** The renewal in progress in this process; concurrent callers join it. */
  private inflight: Promise<CachedToken> | undefined;

  constructor(options: TokenProviderOptions) {
    this.config = options.config;
    this.cache = options.cache;
    this.refreshSkewMs = (options.refreshSkewSeconds ?? 300) * 1000;
    this.log = options.log ?? logger;
    this.now = options.now ?? Date.now;
    this.oauth = options.oauth ?? new OAuthClient({ config: options.config, log: this.log });
    this.lockTtlMs = options.lockTtlMs ?? 60_000;
    this.lockPollMs = options.lockPollMs ?? 250;
  }

  /** Grants made by this provider, for logs. */
  stats(): TokenStats {
    return { ...this.grants };
  }

  /** A token that is not within the refresh skew of its expiry. */
  async getAccessToken(deadline: Deadline = Deadline.none()): Promise<string> {
    if (this.current !== undefined && this.isFresh(this.current)) return this.current.accessToken;
    return (await this.renew(undefined, deadline)).accessToken;
  }

  /**
   * The gateway answered 401 to `rejectedToken`: returns a different token, adopting one another
   * caller or process already obtained, else refreshing (falling back to a password grant).
   */
  async onUnauthorized(rejectedToken: string, deadline: Deadline = Deadline.none()): Promise<string> {
    const current = this.current;
    if (current !== undefined && current.accessToken !== rejectedToken && this.isValid(current)) {
      return current.accessToken;
    }
    this.log.info('ION API token rejected by the gateway; renewing it', { tenant: this.config.tenant });
    return (await this.renew(rejectedToken, deadline)).accessToken;
  }

  /**
   * Revokes the tenant's refresh token (and with it the access token). For one-shot CLI runs only:
   * other processes sharing the cache lose their token too. Leaves an expired entry in the cache.
   */
  async revoke(deadline: Deadline = Deadline.none()): Promise<void> {
    const token = (await this.cache.read(this.config.tenant)) ?? this.current;
    if (token === undefined) return;
    if (this.config.revokeUrl === undefined) {
      this.log.warn('the .ionapi file has no revoke path ("or"); token not revoked', { tenant: this.config.tenant });
      return;
    }
    const hint = token.refreshToken === undefined ? 'access_token' : 'refresh_token';
    await this.oauth.revoke(token.refreshToken ?? token.accessToken, hint, deadline);
    const now = this.now();
    await this.cache.write(this.config.tenant, { accessToken: token.accessToken, obtainedAtMs: token.obtainedAtMs, expiresAtMs: now });
    this.current = undefined;
    this.log.info('ION API token revoked', { tenant: this.config.tenant, hint });
  }

  private skewMs(token: CachedToken): number {
    return Math.min(this.refreshSkewMs, (token.expiresAtMs - token.obtainedAtMs) / 10);
  }

  private isFresh(token: CachedToken): boolean {
    return this.now() < token.expiresAtMs - this.skewMs(token);
  }

  private isValid(token: CachedToken): boolean {
    return this.now() < token.expiresAtMs;
  }

  /** Single-flight: one renewal per process at a time; callers whose need it does not meet start the next. */
  private async renew(rejected: string | undefined, deadline: Deadline): Promise<CachedToken> {
    for (;;) {
      if (this.inflight === undefined) {
        const flight: Promise<CachedToken> = this.obtain(rejected, deadline).finally(() => {
          if (this.inflight === flight) this.inflight = undefined;
        });
        this.inflight = flight;
        return flight;
      }
      const token = await this.inflight;
      if (rejected === undefined ? this.isFresh(token) : token.accessToken !== rejected) return token;
    }
  }

  /**
   * Cross-process renewal: use a token in the cache if it meets the need; else take the tenant's lock,
   * grant and write; if another process holds the lock, keep using a still-valid token or wait for its
   * result (bounded by the deadline and, should the holder die, by the lock's TTL).
   */
  private async obtain(rejected: string | undefined, deadline: Deadline): Promise<CachedToken> {
    const tenant = this.config.tenant;
    const meetsNeed = (token: CachedToken | undefined): token is CachedToken =>
      token !== undefined &&
      (rejected === undefined ? this.isFresh(token) : token.accessToken !== rejected && this.isValid(token));
    let waiting = false;
    for (;;) {
      const cached = await this.cache.read(tenant);
      if (meetsNeed(cached)) return this.adopt(cached);
      const lock = await this.cache.tryLock(tenant, this.lockTtlMs);
      if (lock !== undefined) {
        try {
          // Another holder may have written between our read and our lock.
          const latest = await this.cache.read(tenant);
          if (meetsNeed(latest)) return this.adopt(latest);
          const token = await this.grant(latest ?? this.current, deadline);
          await this.cache.write(tenant, token);
          return this.adopt(token);
        } finally {
          await lock.release();
        }
      }
      if (rejected === undefined) {
        const stillValid = [cached, this.current].find((token) => token !== undefined && this.isValid(token));
        if (stillValid !== undefined) {
          registerSecret(stillValid.accessToken);
          return stillValid;
        }
      }
      if (!waiting) this.log.info('another process is renewing the ION API token; waiting for it', { tenant });
      waiting = true;
      await deadline.sleep('waiting for another process to renew the ION API token', this.lockPollMs);
      // A wait scaled below 1 ms (tests) would spin without ever yielding to I/O and timers.
      if (scaledMs(this.lockPollMs) < 1) await delay(1);
    }
  }

  /**
   * Refresh grant when there is a refresh token; else, or when it is refused, a new grant: the password
   * grant with the service account, or the client credentials grant for an app without one.
   */
  private async grant(base: CachedToken | undefined, deadline: Deadline): Promise<CachedToken> {
    const tenant = this.config.tenant;
    const refreshToken = base?.refreshToken;
    if (refreshToken !== undefined) {
      const startedAtMs = this.now();
      try {
        const grant = await this.oauth.refreshGrant(refreshToken, deadline);
        this.grants.refreshGrants++;
        this.log.info('ION API token refreshed', { tenant, expiresInSeconds: grant.expiresInSeconds, grants: this.stats() });
        return this.toCached(grant, startedAtMs, refreshToken);
      } catch (error) {
        // invalid_client would fail the password grant the same way; anything else refused means the
        // refresh token is dead (expired, revoked): start over with the service account.
        if (!(error instanceof IonAuthError) || error.oauthError === 'invalid_client') throw error;
        this.log.info('ION API refresh token refused; falling back to a password grant', {
          tenant,
          status: error.status,
          oauthError: error.oauthError,
        });
      }
    }
    const startedAtMs = this.now();
    if (this.config.grant === 'client-credentials') {
      const grant = await this.oauth.clientCredentialsGrant(deadline);
      this.grants.clientCredentialsGrants++;
      this.log.info('ION API token obtained with the client credentials', { tenant, expiresInSeconds: grant.expiresInSeconds, grants: this.stats() });
      return this.toCached(grant, startedAtMs);
    }
    const grant = await this.oauth.passwordGrant(deadline);
    this.grants.passwordGrants++;
    this.log.info('ION API token obtained with the service account', {
      tenant,
      expiresInSeconds: grant.expiresInSeconds,
      refreshToken: grant.refreshToken !== undefined,
      grants: this.stats(),
    });
    return this.toCached(grant, startedAtMs);
  }

  /** Lifetime counts from when the request was sent; a refresh answer without a refresh token keeps the old one. */
  private toCached(grant: TokenGrant, startedAtMs: number, previousRefreshToken?: string): CachedToken {
    const refreshToken = grant.refreshToken ?? previousRefreshToken;
    return {
      accessToken: grant.accessToken,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      obtainedAtMs: startedAtMs,
      expiresAtMs: startedAtMs + grant.expiresInSeconds * 1000,
    };
  }

  private adopt(token: CachedToken): CachedToken {
    // A token another process obtained reaches this one through the cache: mask it here too.
    registerSecret(token.accessToken);
    registerSecret(token.refreshToken);
    this.current = token;
    return token;
  }
}
