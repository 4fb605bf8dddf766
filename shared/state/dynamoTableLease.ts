// TableLease over the state table. Item (see stateTable.ts):
//   pk = lease#<tableName>, sk = lease, kind = 'lease', tableName, holder, token, acquiredAt (ISO),
//   expiresAt (epoch ms, compared on every acquire), ttl (epoch s, a day after expiresAt, for clean-up)
// acquire is a conditional put (attribute_not_exists(pk) OR expiresAt < :now); renew and release are
// conditional on holder and token, so a holder that lost its lease cannot touch its successor's.
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionalCheckFailed, keyOf } from './stateTable.ts';
import { LeaseLostError, type Lease, type LeaseInfo, type TableLease } from './tableLease.ts';

export interface DynamoTableLeaseOptions {
  documents: DynamoDBDocumentClient;
  /** The state table (see stateTableDefinition). */
  stateTableName: string;
  now?: () => number;
}

const LEASE_SK = 'lease';
const CLEANUP_AFTER_S = 86_400;

function leaseKey(tableName: string): { pk: string; sk: string } {
  return { pk: keyOf('lease', tableName), sk: LEASE_SK };
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`lease ttlMs must be a positive number, got ${ttlMs}`);
}

export class DynamoTableLease implements TableLease {
  private readonly documents: DynamoDBDocumentClient;
  private readonly stateTable: string;
  private readonly now: () => number;

  constructor(options: DynamoTableLeaseOptions) {
    this.documents = options.documents;
    this.stateTable = options.stateTableName;
    this.now = options.now ?? Date.now;
  }

  async acquire(tableName: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    checkTtl(ttlMs);
    const nowMs = this.now();
    const lease: Lease = {
      tableName,
      holder,
      token: randomUUID(),
      acquiredAt: new Date(nowMs).toISOString(),
      expiresAtMs: nowMs + ttlMs,
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.stateTable,
          Item: {
            ...leaseKey(tableName),
            kind: 'lease',
            tableName,
            holder,
            token: lease.token,
            acquiredAt: lease.acquiredAt,
            expiresAt: lease.expiresAtMs,
            ttl: epochSeconds(lease.expiresAtMs) + CLEANUP_AFTER_S,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return lease;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // The put may have succeeded with its answer lost and been sent again by the SDK: the lease is then
    // this acquisition's own (same holder and token), not someone else's to wait out for its whole ttl.
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.stateTable, Key: leaseKey(tableName), ConsistentRead: true }));
    return Item?.holder === holder && Item.token === lease.token ? lease : undefined;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    checkTtl(ttlMs);
    const expiresAtMs = this.now() + ttlMs;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.stateTable,
          Key: leaseKey(lease.tableName),
          UpdateExpression: 'SET #expiresAt = :expiresAt, #ttl = :ttl',
          ConditionExpression: '#holder = :holder AND #token = :token',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#ttl': 'ttl', '#holder': 'holder', '#token': 'token' },
          ExpressionAttributeValues: {
            ':expiresAt': expiresAtMs,
            ':ttl': epochSeconds(expiresAtMs) + CLEANUP_AFTER_S,
            ':holder': lease.holder,
            ':token': lease.token,
          },
        }),
      );
      return { ...lease, expiresAtMs };
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new LeaseLostError(lease.tableName, lease.holder, { cause: error });
      throw error;
    }
  }

  async release(lease: Lease): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.stateTable,
          Key: leaseKey(lease.tableName),
          ConditionExpression: '#holder = :holder AND #token = :token',
          ExpressionAttributeNames: { '#holder': 'holder', '#token': 'token' },
          ExpressionAttributeValues: { ':holder': lease.holder, ':token': lease.token },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async current(tableName: string): Promise<LeaseInfo | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.stateTable, Key: leaseKey(tableName), ConsistentRead: true }),
    );
    if (Item === undefined || (Item.expiresAt as number) < this.now()) return undefined;
    return {
      tableName: Item.tableName as string,
      holder: Item.holder as string,
      acquiredAt: Item.acquiredAt as string,
      expiresAtMs: Item.expiresAt as number,
    };
  }
}
