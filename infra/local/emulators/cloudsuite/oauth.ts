// The ION API authorization server: password and refresh_token grants, token revocation (RFC 7009),
// and the bearer-token check the gateway applies to every MI call. Tokens are opaque random strings;
// expiry uses real wall-clock time. A refresh token issued anew is rolled: the old one stops working.
import { randomBytes } from 'node:crypto';
import type { Credentials } from './ionapi.ts';
import type { Counters, Knobs } from './types.ts';

/** One password grant and everything refreshed from it; revoking a refresh token revokes the grant. */
interface Grant {
  revoked: boolean;
}

interface AccessToken {
  readonly grant: Grant;
  expiresAtMs: number;
  revoked: boolean;
}

interface RefreshToken {
  readonly grant: Grant;
  revoked: boolean;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
}

function opaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TokenStore {
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  private refreshGrants = 0;

  /** A password grant: a new grant family with an access token and, when enabled, a refresh token. */
  issue(lifetimeSeconds: number, withRefreshToken: boolean): TokenResponse {
    const grant: Grant = { revoked: false };
    const response = this.newAccessToken(grant, lifetimeSeconds);
    if (withRefreshToken) response.refresh_token = this.newRefreshToken(grant);
    return response;
  }

  /**
   * A refresh grant, or undefined when the refresh token is unknown or revoked. Every other refresh
   * answers without a new refresh token (clients must keep the one they have); when a new one is
   * issued, the presented one is rolled and no longer valid.
   */
  refreshWith(token: string, lifetimeSeconds: number, issueRefreshTokens: boolean): TokenResponse | undefined {
    const current = this.refresh.get(token);
    if (!current || current.revoked || current.grant.revoked) return undefined;
    this.refreshGrants++;
    const response = this.newAccessToken(current.grant, lifetimeSeconds);
    if (issueRefreshTokens && this.refreshGrants % 2 === 0) {
      current.revoked = true;
      response.refresh_token = this.newRefreshToken(current.grant);
    }
    return response;
  }

  /** RFC 7009: a refresh token takes its whole grant with it; an access token only itself. */
  revoke(token: string): void {
    const refresh = this.refresh.get(token);
    if (refresh) {
      refresh.revoked = true;
      refresh.grant.revoked = true;
      return;
    }
    const access = this.access.get(token);
    if (access) access.revoked = true;
  }

  revokeAll(): void {
    for (const t of this.access.values()) t.revoked = true;
    for (const t of this.refresh.values()) t.revoked = true;
  }

  expireAccessTokens(nowMs = Date.now()): void {
    for (const t of this.access.values()) t.expiresAtMs = Math.min(t.expiresAtMs, nowMs);
  }

  isValidAccessToken(token: string, nowMs = Date.now()): boolean {
    const access = this.access.get(token);
    return access !== undefined && !access.revoked && !access.grant.revoked && nowMs < access.expiresAtMs;
  }

  private newAccessToken(grant: Grant, lifetimeSeconds: number): TokenResponse {
    const token = opaqueToken();
    this.access.set(token, { grant, expiresAtMs: Date.now() + lifetimeSeconds * 1000, revoked: false });
    return { access_token: token, token_type: 'Bearer', expires_in: lifetimeSeconds };
  }

  private newRefreshToken(grant: Grant): string {
    const token = opaqueToken();
    this.refresh.set(token, { grant, revoked: false });
    return token;
  }
}

export interface OAuthAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' };

function oauthError(status: number, error: string, description: string, extraHeaders: Record<string, string> = {}): OAuthAnswer {
  return { status, headers: { ...JSON_HEADERS, ...extraHeaders }, body: JSON.stringify({ error, error_description: description }) };
}

const invalidClient = () =>
  oauthError(401, 'invalid_client', 'Invalid client or client credentials', { 'www-authenticate': 'Basic realm="PingFederate"' });

/** Decodes an RFC 6749 §2.3.1 credential (form-encoded before Basic encoding); raw when not decodable. */
function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export interface OAuthRequest {
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

export class OAuthServer {
  constructor(
    private readonly credentials: Credentials,
    readonly tokens: TokenStore,
    private readonly knobs: () => Knobs,
    private readonly counters: Counters,
  ) {}

  /** POST {pu}token.oauth2 */
  token(request: OAuthRequest): OAuthAnswer {
    const form = this.form(request);
    if (!form) return oauthError(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded');
    const client = this.authenticateClient(request, form);
    if (client !== 'ok') return client;
    const knobs = this.knobs();
    const grantType = form.get('grant_type');
    // A service-account app uses the password grant; a client-credentials app only client_credentials.
    const serviceAccount = knobs.backendApp === 'service-account';
    if ((grantType === 'password' && !serviceAccount) || (grantType === 'client_credentials' && serviceAccount)) {
      return oauthError(400, 'unauthorized_client', `This client may not use the ${grantType} grant`);
    }
    switch (grantType) {
      case 'client_credentials': {
        this.counters.clientCredentialsGrants++;
        // RFC 6749 §4.4.3: no refresh token for the client credentials grant.
        return this.ok(this.tokens.issue(knobs.tokenLifetimeSeconds, false));
      }
      case 'password': {
        if (form.get('username') !== this.credentials.accessKey || form.get('password') !== this.credentials.secretKey) {
          return oauthError(400, 'invalid_grant', 'Invalid resource owner credentials (service account access key / secret key)');
        }
        this.counters.passwordGrants++;
        return this.ok(this.tokens.issue(knobs.tokenLifetimeSeconds, knobs.issueRefreshTokens));
      }
      case 'refresh_token': {
        const refreshToken = form.get('refresh_token');
        if (!refreshToken) return oauthError(400, 'invalid_request', 'refresh_token is missing');
        const response = this.tokens.refreshWith(refreshToken, knobs.tokenLifetimeSeconds, knobs.issueRefreshTokens);
        if (!response) return oauthError(400, 'invalid_grant', 'Refresh token is invalid, revoked or rolled');
        this.counters.refreshGrants++;
        return this.ok(response);
      }
      case null:
        return oauthError(400, 'invalid_request', 'grant_type is missing');
      default:
        return oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported for this client`);
    }
  }

  /** POST {pu}revoke_token.oauth2 */
  revoke(request: OAuthRequest): OAuthAnswer {
    const form = this.form(request);
    if (!form) return oauthError(400, 'invalid_request', 'The request must be application/x-www-form-urlencoded');
    const client = this.authenticateClient(request, form);
    if (client !== 'ok') return client;
    const token = form.get('token');
    if (!token) return oauthError(400, 'invalid_request', 'token is missing');
    // RFC 7009: unknown tokens are answered like revoked ones, so nothing leaks about which exist.
    this.tokens.revoke(token);
    this.counters.revokes++;
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' };
  }

  private ok(response: TokenResponse): OAuthAnswer {
    return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(response) };
  }

  private form(request: OAuthRequest): URLSearchParams | undefined {
    const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return undefined;
    return new URLSearchParams(request.body);
  }

  /** Client credentials by HTTP Basic or in the body; both may be sent only if they agree. */
  private authenticateClient(request: OAuthRequest, form: URLSearchParams): 'ok' | OAuthAnswer {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const header = request.authorization ?? '';
    if (/^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return invalidClient();
      const basicId = formDecode(decoded.slice(0, colon));
      const basicSecret = formDecode(decoded.slice(colon + 1));
      if ((id !== null && id !== basicId) || (secret !== null && secret !== basicSecret)) return invalidClient();
      id = basicId;
      secret = basicSecret;
    }
    if (id !== this.credentials.clientId || secret !== this.credentials.clientSecret) return invalidClient();
    return 'ok';
  }
}
