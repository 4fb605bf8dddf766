// How a cached ION API token is sealed, for both token caches (DynamoDB in AWS, the state folder locally):
// the access and refresh tokens AND their lifetime (obtainedAtMs, expiresAtMs) go inside the sealed payload,
// under an encryption context naming the purpose and the tenant. The lifetime used to sit beside the sealed
// value in clear, so anyone able to write the item could keep a revoked or expired token "fresh" (found by
// the hardening review); now only the sealed copy counts, and the clear one serves the table's TTL only.
import type { CachedToken } from '../ionapi/tokenCache.ts';
import type { Log } from '../observability/logger.ts';
import { epochSeconds, TOKEN_SEAL_PURPOSE } from '../state/stateTable.ts';
import { SealedValueError, type EncryptionContext, type Encryptor } from './encryptor.ts';

/** The encryption context of a tenant's token (KMS encryption context, GCM associated data). */
export function tokenSealContext(tenant: string): EncryptionContext {
  return { purpose: TOKEN_SEAL_PURPOSE, tenant };
}

interface SealedPayload {
  accessToken: string;
  refreshToken?: string;
  obtainedAtMs: number;
  expiresAtMs: number;
}

export async function sealToken(encryptor: Encryptor, tenant: string, token: CachedToken): Promise<string> {
  const payload: SealedPayload = {
    accessToken: token.accessToken,
    ...(token.refreshToken === undefined ? {} : { refreshToken: token.refreshToken }),
    obtainedAtMs: token.obtainedAtMs,
    expiresAtMs: token.expiresAtMs,
  };
  return encryptor.seal(JSON.stringify(payload), tokenSealContext(tenant));
}

/** The token sealed for `tenant`; throws SealedValueError for another key, tenant, a tampered value or one without its lifetime. */
export async function openToken(encryptor: Encryptor, tenant: string, sealed: string): Promise<CachedToken> {
  const payload = JSON.parse(await encryptor.open(sealed, tokenSealContext(tenant))) as Partial<SealedPayload>;
  const { accessToken, refreshToken, obtainedAtMs, expiresAtMs } = payload;
  if (typeof accessToken !== 'string' || typeof obtainedAtMs !== 'number' || typeof expiresAtMs !== 'number') {
    // Sealed by an earlier version (lifetime in clear): not trusted; a new token replaces it.
    throw new SealedValueError('the sealed token carries no authenticated lifetime');
  }
  return { accessToken, ...(typeof refreshToken === 'string' ? { refreshToken } : {}), obtainedAtMs, expiresAtMs };
}

/** A refresh token outlives the access token: a cached token's item is kept a day past its expiry. */
const CLEANUP_AFTER_S = 86_400;

/** The attributes of a tenant's cached-token item, the same in both caches (the pk and sk are the cache's). */
export async function sealedTokenItem(encryptor: Encryptor, tenant: string, token: CachedToken, nowMs: number) {
  return {
    kind: 'token',
    sealed: await sealToken(encryptor, tenant, token),
    // In clear for the table's TTL and for people reading the table; only the sealed lifetime is trusted.
    expiresAtMs: token.expiresAtMs,
    obtainedAtMs: token.obtainedAtMs,
    updatedAt: new Date(nowMs).toISOString(),
    ttl: epochSeconds(token.expiresAtMs) + CLEANUP_AFTER_S,
  };
}

/** The token in a cached item, or undefined when there is none or it cannot be opened (logged: a new token replaces it). */
export async function openTokenItem(encryptor: Encryptor, tenant: string, item: Record<string, unknown> | undefined, log: Log): Promise<CachedToken | undefined> {
  if (item === undefined || typeof item.sealed !== 'string') return undefined;
  try {
    return await openToken(encryptor, tenant, item.sealed);
  } catch (error) {
    // Sealed under another key (a recreated key or state folder), tampered with or sealed by an earlier version:
    // useless, not fatal; the provider obtains a new token and overwrites it.
    log.warn('the cached ION API token cannot be opened; a new one will be obtained', { tenant, error: (error as Error).name });
    return undefined;
  }
}
