// Conditional writes whose answer is lost (chaos label *-lost-response): the SDK sends the request again and
// the retry meets the write's own success. The ledger and the table lease must take that as done — before,
// a unit whose extraction or load had completed failed with LedgerTransitionError, and a load waited out
// its own lease for the whole ttl — while a second writer racing for the same step is still refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunLedger } from '#shared/state/dynamoRunLedger.ts';
import { DynamoTableLease } from '#shared/state/dynamoTableLease.ts';
import { LedgerTransitionError } from '#shared/state/runLedger.ts';
import { startDynalite, type DynamoEmulator } from '../support/awsEmulators.ts';
import { AwsFaultInjector, inLambda } from './awsFaults.ts';

let dynamo: DynamoEmulator;
let table: string;
let faults: AwsFaultInjector;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createStateTable();
  // Only the DynamoDB client is faulted here; the S3 side of the injector is a throwaway client's stack.
  faults = new AwsFaultInjector({ s3: { middlewareStack: { addRelativeTo: () => undefined } } as never, documents: dynamo.documents });
});
afterAll(() => dynamo?.close());

const losingNext = (command: string) => faults.arm({ service: 'dynamodb', command, nth: 1, count: 1, mode: 'lost-response' });

describe('a conditional write whose answer was lost', () => {
  it('moves a ledger unit once and reports it moved; a racing second transition is still refused', async () => {
    const ledger = new DynamoRunLedger({ documents: dynamo.documents, stateTableName: table });
    await ledger.startRun({ runKey: 'lost-1', executionName: 'lost-1', trigger: 'local', flows: ['f'], mode: 'incremental', ttlDays: 1 });
    await ledger.registerUnits('lost-1', [{ unitId: 'f/100', entity: 'e', company: '100', division: '' }]);
    await ledger.transitionUnit('lost-1', 'f/100', ['pending'], 'extracting');

    losingNext('UpdateItemCommand');
    const moved = await inLambda.run(true, () => ledger.transitionUnit('lost-1', 'f/100', ['extracting'], 'extracted', { recordsExtracted: 7 }));
    expect(faults.fired).toContain('dynamodb UpdateItemCommand lost-response');
    expect(moved).toMatchObject({ status: 'extracted', recordsExtracted: 7 });
    expect(moved).not.toHaveProperty('writeId');

    const again = await ledger.transitionUnit('lost-1', 'f/100', ['extracting'], 'extracted').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(LedgerTransitionError);
    expect(again).toMatchObject({ actual: 'extracted' });
  });

  it('takes a table lease that is its own, and still waits for another holder', async () => {
    const leases = new DynamoTableLease({ documents: dynamo.documents, stateTableName: table });
    losingNext('PutItemCommand');
    const mine = await inLambda.run(true, () => leases.acquire('main.cloudsuite.t', 'exec-1', 60_000));
    expect(faults.fired.at(-1)).toBe('dynamodb PutItemCommand lost-response');
    expect(mine).toMatchObject({ holder: 'exec-1' });
    expect(await leases.acquire('main.cloudsuite.t', 'exec-2', 60_000)).toBeUndefined();
    expect(await leases.acquire('main.cloudsuite.t', 'exec-1', 60_000)).toBeUndefined();
    expect(await leases.release(mine!)).toBe(true);
  });
});
