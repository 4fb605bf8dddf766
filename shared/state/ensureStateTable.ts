// Creates the state table (stateTable.ts) where no stack does: in dynalite, for the local sync and the tests.
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { stateTableDefinition } from './stateTable.ts';

/**
 * Creates the state table if it does not exist and waits until it is ACTIVE (local runs and tests;
 * in AWS the CDK stack owns it). TTL cannot be switched on here: dynalite has no UpdateTimeToLive.
 */
export async function ensureStateTable(documents: DynamoDBDocumentClient, name: string, timeoutMs = 30_000): Promise<void> {
  try {
    await documents.send(new CreateTableCommand(stateTableDefinition(name)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { Table } = await documents.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (Date.now() > giveUpAt) throw new Error(`state table "${name}" did not become ACTIVE within ${timeoutMs} ms`);
    await delay(100);
  }
}
