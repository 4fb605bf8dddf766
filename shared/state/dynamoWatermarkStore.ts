// WatermarkStore over the state table. Item (see stateTable.ts):
//   pk = wm#<tenant>, sk = <entity>#<company>#<division>, kind = 'watermark',
//   tenant, entity, company, division, changeDate (yyyyMMdd), changeStamp, runId, updatedAt (ISO); no ttl.
// advance is one conditional update (attribute_not_exists(changeStamp) OR changeStamp < :new): concurrent
// runs cannot move a watermark back, and the loser of a race simply learns the stored mark.
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, keyOf } from './stateTable.ts';
import { assertChangeDate, type AdvanceResult, type Watermark, type WatermarkKey, type WatermarkMark, type WatermarkStore } from './watermarkStore.ts';

export interface DynamoWatermarkStoreOptions {
  documents: DynamoDBDocumentClient;
  /** The state table (see stateTableDefinition). */
  stateTableName: string;
  now?: () => number;
}

interface WatermarkItem extends WatermarkKey, Watermark {
  pk: string;
  sk: string;
}

function itemKey(key: WatermarkKey): { pk: string; sk: string } {
  return { pk: keyOf('wm', key.tenant), sk: keyOf(key.entity, key.company, key.division) };
}

function toWatermark(item: WatermarkItem): Watermark {
  return { changeDate: item.changeDate, changeStamp: item.changeStamp, runId: item.runId, updatedAt: item.updatedAt };
}

export class DynamoWatermarkStore implements WatermarkStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  constructor(options: DynamoWatermarkStoreOptions) {
    this.documents = options.documents;
    this.tableName = options.stateTableName;
    this.now = options.now ?? Date.now;
  }

  async get(key: WatermarkKey): Promise<Watermark | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: itemKey(key), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : toWatermark(Item as WatermarkItem);
  }

  async advance(key: WatermarkKey, mark: WatermarkMark): Promise<AdvanceResult> {
    assertChangeDate(mark.changeDate, 'watermark changeDate');
    if (mark.changeStamp === '') throw new Error('watermark changeStamp must not be empty');
    const updatedAt = new Date(this.now()).toISOString();
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(key),
          UpdateExpression:
            'SET #kind = :kind, #tenant = :tenant, #entity = :entity, #company = :company, #division = :division, ' +
            '#changeDate = :changeDate, #changeStamp = :changeStamp, #runId = :runId, #updatedAt = :updatedAt',
          ConditionExpression: 'attribute_not_exists(#changeStamp) OR #changeStamp < :changeStamp',
          ExpressionAttributeNames: {
            '#kind': 'kind',
            '#tenant': 'tenant',
            '#entity': 'entity',
            '#company': 'company',
            '#division': 'division',
            '#changeDate': 'changeDate',
            '#changeStamp': 'changeStamp',
            '#runId': 'runId',
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: {
            ':kind': 'watermark',
            ':tenant': key.tenant,
            ':entity': key.entity,
            ':company': key.company,
            ':division': key.division,
            ':changeDate': mark.changeDate,
            ':changeStamp': mark.changeStamp,
            ':runId': mark.runId,
            ':updatedAt': updatedAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { advanced: true, current: toWatermark(Attributes as WatermarkItem) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // A newer (or equal) mark is stored. Read it back: ReturnValuesOnConditionCheckFailure would save the
    // read, but the local emulator ignores it, and watermarks are never deleted, so the item is there.
    const current = await this.get(key);
    if (current === undefined) throw new Error(`watermark ${itemKey(key).sk} of ${key.tenant} vanished during an advance`);
    return { advanced: false, current };
  }

  async list(tenant: string): Promise<(WatermarkKey & Watermark)[]> {
    const out: (WatermarkKey & Watermark)[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keyOf('wm', tenant) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = raw as WatermarkItem;
        out.push({ tenant: item.tenant, entity: item.entity, company: item.company, division: item.division, ...toWatermark(item) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return out;
  }
}
