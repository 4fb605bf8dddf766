// RunLedger over the state table, with conditional writes only (no transactions). Items (see stateTable.ts):
//   run:  pk = run#<runKey>, sk = run, kind = 'run', runKey, executionName, trigger, schedule?, scheduledTime?,
//         flows, mode, status (running | succeeded | failed), startedAt, finishedAt?, summary?, ttl
//   unit: pk = run#<runKey>, sk = unit#<unitId>, kind = 'unit', runKey, unitId, entity, company, division,
//         flow?, status, recordsExtracted?, recordsLoaded?, stagedAt?, error? {name, message},
//         timings {<status>: ISO}, updatedAt, writeId (the last transition's, to recognise it), ttl (the run's)
// A run is created with attribute_not_exists(pk) (or over an expired one), a unit moves only if its status
// is one of the expected ones, and every read ignores items whose ttl has passed.
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  errorSummary,
  isAllowedTransition,
  LedgerTransitionError,
  RunAlreadyFinishedError,
  RunNotFoundError,
  type RunLedger,
  type RunRecord,
  type RunStatus,
  type RunSummary,
  type StartRunRequest,
  type StartRunResult,
  type TransitionFields,
  type UnitRecord,
  type UnitRegistration,
  type UnitStatus,
} from './runLedger.ts';
import { newRunItem, newUnitItem, RUN_SK, runPk, toRun, toUnit, transitionValues, unitSk, type LedgerItem as Item } from './runLedgerItems.ts';
import { epochSeconds, isConditionalCheckFailed, isLive } from './stateTable.ts';

export { RunAlreadyFinishedError } from './runLedger.ts';

export interface DynamoRunLedgerOptions {
  documents: DynamoDBDocumentClient;
  /** The state table (see stateTableDefinition). */
  stateTableName: string;
  now?: () => number;
}

const REGISTER_CONCURRENCY = 10;

export class DynamoRunLedger implements RunLedger {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  constructor(options: DynamoRunLedgerOptions) {
    this.documents = options.documents;
    this.tableName = options.stateTableName;
    this.now = options.now ?? Date.now;
  }

  async startRun(request: StartRunRequest): Promise<StartRunResult> {
    const nowMs = this.now();
    const item = newRunItem(request, nowMs);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // A run key whose item has expired (but is not yet deleted) is free again.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': epochSeconds(nowMs) },
        }),
      );
      return { created: true, run: toRun(item) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const existing = await this.getRun(request.runKey);
    if (existing === undefined) throw new Error(`run "${request.runKey}" exists but could not be read back; retry the start`);
    return { created: false, existing };
  }

  async getRun(runKey: string): Promise<RunRecord | undefined> {
    const item = await this.getItem(runPk(runKey), RUN_SK);
    return item === undefined ? undefined : toRun(item);
  }

  async registerUnits(runKey: string, units: readonly UnitRegistration[]): Promise<{ registered: number; existing: number }> {
    const runItem = await this.getItem(runPk(runKey), RUN_SK);
    if (runItem === undefined) throw new RunNotFoundError(runKey, 'register its units');
    const ttl = runItem.ttl as number;
    let registered = 0;
    let existing = 0;
    for (let i = 0; i < units.length; i += REGISTER_CONCURRENCY) {
      const batch = units.slice(i, i + REGISTER_CONCURRENCY);
      const created = await Promise.all(batch.map((unit) => this.registerUnit(runKey, unit, ttl)));
      for (const wasCreated of created) wasCreated ? registered++ : existing++;
    }
    return { registered, existing };
  }

  private async registerUnit(runKey: string, unit: UnitRegistration, ttl: number): Promise<boolean> {
    const nowMs = this.now();
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: newUnitItem(runKey, unit, nowMs, ttl),
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': epochSeconds(nowMs) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async transitionUnit(
    runKey: string,
    unitId: string,
    from: readonly UnitStatus[],
    to: UnitStatus,
    fields: TransitionFields = {},
  ): Promise<UnitRecord> {
    if (from.length === 0 || from.some((status) => !isAllowedTransition(status, to))) {
      throw new LedgerTransitionError(runKey, unitId, from, to, undefined, 'not-in-lifecycle');
    }
    const nowMs = this.now();
    const at = new Date(nowMs).toISOString();
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt', '#timings': 'timings', '#to': to, '#ttl': 'ttl', '#writeId': 'writeId' };
    const values: Record<string, unknown> = { ':to': to, ':at': at, ':now': epochSeconds(nowMs), ':writeId': randomUUID() };
    const set = ['#status = :to', '#updatedAt = :at', '#timings.#to = :at', '#writeId = :writeId'];
    const remove: string[] = [];
    for (const [name, value] of Object.entries(transitionValues(fields))) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      set.push(`#${name} = :${name}`);
    }
    if (to === 'failed') {
      names['#error'] = 'error';
      values[':error'] = errorSummary(fields.error ?? new Error('failed (no error given)'));
      set.push('#error = :error');
    } else if (to === 'pending') {
      // A rerun starts clean: the previous failure stays in the logs and the failed run's summary.
      names['#error'] = 'error';
      remove.push('#error');
    }
    const fromValues = from.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    // Only while the unit is this execution's (see TransitionFields.holder).
    let held = '';
    if (fields.holder !== undefined) {
      names['#claimedBy'] = 'claimedBy';
      if (fields.holder === null) held = ' AND attribute_not_exists(#claimedBy)';
      else {
        values[':holder'] = fields.holder;
        held = ' AND #claimedBy = :holder';
      }
    }
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runKey), sk: unitSk(unitId) },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: `#status IN (${fromValues.join(', ')}) AND #ttl > :now${held}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toUnit(Attributes as Item);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const item = await this.getItem(runPk(runKey), unitSk(unitId));
    const current = item === undefined ? undefined : toUnit(item);
    // This very write may have succeeded with its answer lost: the SDK then sent it again, and the retry
    // found the unit already moved. The write's own id in the item tells it apart from another writer's
    // move. (Before, a unit whose extraction or load had completed failed on a dropped response.)
    if (current?.status === to && item?.writeId === values[':writeId']) return current;
    if (current === undefined) throw new LedgerTransitionError(runKey, unitId, from, to, undefined, 'not-registered');
    const heldBy = current.claimedBy ?? null;
    if (fields.holder !== undefined && fields.holder !== heldBy) {
      throw new LedgerTransitionError(runKey, unitId, from, to, current.status, 'claimed-elsewhere', heldBy);
    }
    throw new LedgerTransitionError(runKey, unitId, from, to, current.status, 'status-changed');
  }

  async getUnit(runKey: string, unitId: string): Promise<UnitRecord | undefined> {
    const item = await this.getItem(runPk(runKey), unitSk(unitId));
    return item === undefined ? undefined : toUnit(item);
  }

  async listUnits(runKey: string): Promise<UnitRecord[]> {
    const nowMs = this.now();
    const units: UnitRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :unit)',
          ExpressionAttributeValues: { ':pk': runPk(runKey), ':unit': 'unit#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (isLive(item, nowMs)) units.push(toUnit(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return units;
  }

  async finishRun(runKey: string, status: Exclude<RunStatus, 'running'>, summary: RunSummary): Promise<RunRecord> {
    const nowMs = this.now();
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runKey), sk: RUN_SK },
          UpdateExpression: 'SET #status = :status, #finishedAt = if_not_exists(#finishedAt, :at), #summary = :summary',
          ConditionExpression: 'attribute_exists(pk) AND #ttl > :now AND (#status = :running OR #status = :status)',
          ExpressionAttributeNames: { '#status': 'status', '#finishedAt': 'finishedAt', '#summary': 'summary', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':status': status,
            ':running': 'running',
            ':at': new Date(nowMs).toISOString(),
            ':summary': summary,
            ':now': epochSeconds(nowMs),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRun(Attributes as Item);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.getRun(runKey);
    if (current === undefined) throw new RunNotFoundError(runKey, `mark it ${status}`);
    throw new RunAlreadyFinishedError(runKey, current.status, status);
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return Item !== undefined && isLive(Item, this.now()) ? Item : undefined;
  }
}
