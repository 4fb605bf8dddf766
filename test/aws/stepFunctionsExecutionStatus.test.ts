// The Step Functions adapter of ExecutionStatusSource through the real SDK client, against a loopback
// server that answers DescribeExecution in the service's JSON protocol (no Step Functions emulator is
// available here): the execution ARN it asks for, the status it returns, and ExecutionDoesNotExist → GONE.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS, LOCAL_EMULATOR_REGION } from '#shared/aws/clients.ts';
import { executionArnOf, StepFunctionsExecutionStatus } from '#shared/aws/stepFunctionsExecutionStatus.ts';

const MACHINE = 'arn:aws:states:eu-north-1:123456789012:stateMachine:CloudSuiteSync-sync';
const statuses = new Map([[`${MACHINE.replace(':stateMachine:', ':execution:')}:nightly-1`, 'ABORTED'], [`${MACHINE.replace(':stateMachine:', ':execution:')}:nightly-2`, 'RUNNING']]);
const asked: { target: string | undefined; arn: string }[] = [];

let server: Server;
let client: SFNClient;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { executionArn } = JSON.parse(body) as { executionArn: string };
      asked.push({ target: req.headers['x-amz-target'] as string | undefined, arn: executionArn });
      const status = statuses.get(executionArn);
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (!status) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist', message: `Execution Does Not Exist: '${executionArn}'` }));
        return;
      }
      res.end(JSON.stringify({ executionArn, stateMachineArn: MACHINE, status, startDate: 1_764_000_000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new SFNClient({ endpoint: `http://127.0.0.1:${port}`, region: LOCAL_EMULATOR_REGION, credentials: { ...LOCAL_EMULATOR_CREDENTIALS }, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

describe('StepFunctionsExecutionStatus', () => {
  it('derives the execution ARN from the state machine ARN and refuses anything else', () => {
    expect(executionArnOf(MACHINE, 'nightly-1')).toBe('arn:aws:states:eu-north-1:123456789012:execution:CloudSuiteSync-sync:nightly-1');
    expect(executionArnOf('arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:m', 'x')).toBe('arn:aws-us-gov:states:us-gov-west-1:1:execution:m:x');
    expect(() => executionArnOf('arn:aws:lambda:eu-north-1:1:function:plan', 'x')).toThrow(/is not a Step Functions state machine ARN/);
  });

  it('answers the execution\'s status, GONE for one the service does not know, and needs the state machine ARN', async () => {
    const executions = new StepFunctionsExecutionStatus(client);
    expect(await executions.statusOf({ stateMachineArn: MACHINE, name: 'nightly-1' })).toBe('ABORTED');
    expect(await executions.statusOf({ stateMachineArn: MACHINE, name: 'nightly-2' })).toBe('RUNNING');
    expect(await executions.statusOf({ stateMachineArn: MACHINE, name: 'expired-long-ago' })).toBe('GONE');
    expect(asked.map((a) => a.target)).toEqual(Array(3).fill('AWSStepFunctions.DescribeExecution'));
    expect(asked[2]!.arn).toBe('arn:aws:states:eu-north-1:123456789012:execution:CloudSuiteSync-sync:expired-long-ago');
    await expect(executions.statusOf({ name: 'nightly-1' })).rejects.toThrow(/the state machine ARN is missing from the Plan payload/);
  });
});
