// TokenCache over the folder state table (folderStateTable.ts), with the items and guarantees of
// DynamoTokenCache: one ION API token per tenant, sealed by an Encryptor (AES-GCM with the state folder's
// key file) so no file holds a readable token, and an expiring lock so one caller renews it at a time.
import { randomUUID } from 'node:crypto';
import type { Encryptor } from '../aws/encryptor.ts';
import { openTokenItem, sealedTokenItem } from '../aws/sealedToken.ts';
import type { CachedToken, TokenCache, TokenLock } from '../ionapi/tokenCache.ts';
import { logger, type Log } from '../observability/logger.ts';
import type { FolderStateTable } from './folderStateTable.ts';
import { epochSeconds, keyOf } from './stateTable.ts';

export interface FolderTokenCacheOptions {
  table: FolderStateTable;
  encryptor: Encryptor;
  now?: () => number;
  log?: Log;
}

const TOKEN_SK = 'token';
const LOCK_SK = 'lock';
const CLEANUP_AFTER_S = 86_400;

const pkOf = (tenant: string) => keyOf('token', tenant);

export class FolderTokenCache implements TokenCache {
  private readonly table: FolderStateTable;
  private readonly encryptor: Encryptor;
  private readonly now: () => number;
  private readonly log: Log;

  constructor(options: FolderTokenCacheOptions) {
    this.table = options.table;
    this.encryptor = options.encryptor;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? logger;
  }

  async read(tenant: string): Promise<CachedToken | undefined> {
    return openTokenItem(this.encryptor, tenant, await this.table.get(pkOf(tenant), TOKEN_SK), this.log);
  }

  async write(tenant: string, token: CachedToken): Promise<void> {
    const item = await sealedTokenItem(this.encryptor, tenant, token, this.now());
    const pk = pkOf(tenant);
    await this.table.change(pk, (partition) => partition.set(TOKEN_SK, { pk, sk: TOKEN_SK, ...item }));
  }

  async tryLock(tenant: string, ttlMs: number): Promise<TokenLock | undefined> {
    const holder = randomUUID();
    const nowMs = this.now();
    const expiresAtMs = nowMs + ttlMs;
    const pk = pkOf(tenant);
    const taken = await this.table.change(pk, (partition) => {
      const current = partition.get(LOCK_SK);
      if (current !== undefined && !((current.expiresAtMs as number) < nowMs)) return false;
      partition.set(LOCK_SK, { pk, sk: LOCK_SK, kind: 'token-lock', holder, expiresAtMs, ttl: epochSeconds(expiresAtMs) + CLEANUP_AFTER_S });
      return true;
    });
    if (!taken) return undefined;
    return {
      // Only our own acquisition: a holder whose lock expired must not free its successor's.
      release: () => this.table.change(pk, (partition) => void (partition.get(LOCK_SK)?.holder === holder && partition.delete(LOCK_SK))),
    };
  }

  /** Drops the tenant's token (the local CloudSuite emulator forgets the tokens it issued when it restarts). */
  async forget(tenant: string): Promise<void> {
    await this.table.change(pkOf(tenant), (partition) => void partition.delete(TOKEN_SK));
  }
}
