// The one DynamoDB table that holds the sync's state (single-table design, pk/sk strings), shared by the
// watermark store, the run ledger and the table lease. Its definition lives here so the tests, the
// local runner (ensureStateTable.ts) and the CDK stack create the same table; no runtime library is
// imported, so the stack reads it at synth time.
//
// Item layout (key parts are encodeURIComponent-encoded, so '#' only ever separates them):
//   pk                        sk                                   item
//   wm#<tenant>               <entity>#<company>#<division>        watermark (division '' when none); never expires
//   run#<runKey>              run                                  run ledger: one run
//   run#<runKey>              unit#<unitId>                        run ledger: one work unit of the run
//   lease#<tableName>         lease                                table lease (expiresAt in epoch ms)
// Every item has `kind` (watermark | run | unit | lease). Run, unit and lease items carry `ttl` (epoch
// seconds, the table's TTL attribute); DynamoDB deletes expired items only eventually (up to about two
// days later), so every read treats an item whose ttl has passed as absent.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The purpose in the encryption context of the sealed token items (token#<tenant>, shared/aws/sealedToken.ts):
 * the stack grants the token key only under it, so it lives here, where synth can read it.
 */
export const TOKEN_SEAL_PURPOSE = 'cloudsuite-sync/ion-token';

/** The attribute DynamoDB's Time To Live reads (enable it on the table with this name). */
export const TTL_ATTRIBUTE = 'ttl';

/** Table name, key schema and billing of the state table (CDK: partitionKey pk, sortKey sk, both strings). */
export function stateTableDefinition(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Joins key parts with '#', encoding each so a part containing '#' cannot alias another key. */
export function keyOf(...parts: string[]): string {
  return parts.map((part) => encodeURIComponent(part)).join('#');
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The ttl value for an item kept `days` days from `nowMs`. */
export function ttlAfterDays(nowMs: number, days: number): number {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`ttlDays must be a positive number, got ${days}`);
  return epochSeconds(nowMs) + Math.round(days * 86_400);
}

/** False for an item whose ttl has passed (DynamoDB may still return it for up to two days). */
export function isLive(item: { [TTL_ATTRIBUTE]?: unknown }, nowMs: number): boolean {
  const ttl = item[TTL_ATTRIBUTE];
  return typeof ttl !== 'number' || ttl > epochSeconds(nowMs);
}

/** True for the error of a failed ConditionExpression. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
