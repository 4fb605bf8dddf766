// TokenCache over the state table: one ION API token per tenant shared by every Lambda (and the local
// sync), sealed by an Encryptor (KMS envelope in AWS) so the table never holds a readable token, and a
// short conditional-write lock so only one process renews it at a time (Infor allows ~20 logins a minute).
// Items (see shared/state/stateTable.ts for the table):
//   pk = token#<tenant>, sk = token: kind 'token', sealed, expiresAtMs, obtainedAtMs, updatedAt, ttl (a day after expiry);
//     the lifetime that counts is the one sealed with the tokens (sealedToken.ts); the clear copy is informative
//   pk = token#<tenant>, sk = lock:  kind 'token-lock', holder, expiresAtMs, ttl (clean-up only)
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedToken, TokenCache, TokenLock } from '../ionapi/tokenCache.ts';
import { logger, type Log } from '../observability/logger.ts';
import { epochSeconds, isConditionalCheckFailed, keyOf } from '../state/stateTable.ts';
import type { Encryptor } from './encryptor.ts';
import { openTokenItem, sealedTokenItem } from './sealedToken.ts';

export interface DynamoTokenCacheOptions {
  documents: DynamoDBDocumentClient;
  stateTableName: string;
  encryptor: Encryptor;
  now?: () => number;
  log?: Log;
}

const TOKEN_SK = 'token';
const LOCK_SK = 'lock';
const CLEANUP_AFTER_S = 86_400;

/** The leading key of token items: IAM policies scope token-cache access to it (dynamodb:LeadingKeys). */
export function tokenCachePk(tenant: string): string {
  return keyOf('token', tenant);
}

export class DynamoTokenCache implements TokenCache {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly encryptor: Encryptor;
  private readonly now: () => number;
  private readonly log: Log;

  constructor(options: DynamoTokenCacheOptions) {
    this.documents = options.documents;
    this.tableName = options.stateTableName;
    this.encryptor = options.encryptor;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? logger;
  }

  async read(tenant: string): Promise<CachedToken | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tokenCachePk(tenant), sk: TOKEN_SK }, ConsistentRead: true }),
    );
    return openTokenItem(this.encryptor, tenant, Item, this.log);
  }

  async write(tenant: string, token: CachedToken): Promise<void> {
    const item = await sealedTokenItem(this.encryptor, tenant, token, this.now());
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { pk: tokenCachePk(tenant), sk: TOKEN_SK, ...item } }));
  }

  async tryLock(tenant: string, ttlMs: number): Promise<TokenLock | undefined> {
    const holder = randomUUID();
    const nowMs = this.now();
    const expiresAtMs = nowMs + ttlMs;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: tokenCachePk(tenant), sk: LOCK_SK, kind: 'token-lock', holder, expiresAtMs, ttl: epochSeconds(expiresAtMs) + CLEANUP_AFTER_S },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs < :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
    return {
      release: async () => {
        try {
          // Only our own acquisition: a holder whose lock expired must not free its successor's.
          await this.documents.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: { pk: tokenCachePk(tenant), sk: LOCK_SK },
              ConditionExpression: 'holder = :holder',
              ExpressionAttributeValues: { ':holder': holder },
            }),
          );
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
        }
      },
    };
  }
}
