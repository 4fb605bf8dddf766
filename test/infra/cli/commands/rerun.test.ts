import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it, vi } from 'vitest';
import { buildExecutionInput, executionConsoleUrl, executionNameFor, parseStateMachineArn, rerunCommand } from '../../../../infra/cli/commands/rerun.ts';

const ARN = 'arn:aws:states:eu-north-1:123456789012:stateMachine:SyncStateMachine81090156-abc';

describe('cloudsuite-sync rerun', () => {
  it('replays an execution\'s failed units by name (an execution ARN is accepted too)', () => {
    expect(buildExecutionInput({ rerunOf: 'sched-20261120T010000Z-a1b2c3' })).toEqual({ rerunOf: 'sched-20261120T010000Z-a1b2c3' });
    expect(buildExecutionInput({ rerunOf: 'arn:aws:states:eu-north-1:123456789012:execution:Sync:abc-123' })).toEqual({ rerunOf: 'abc-123' });
    expect(() => buildExecutionInput({ rerunOf: 'abc', companies: '100' })).toThrow(/replays exactly the failed units/);
  });

  it('builds backfill and partial-run inputs the Plan step accepts', () => {
    expect(buildExecutionInput({ flows: 'purchase-orders, purchase-order-lines', companies: '200', since: '2026-01-01', until: '2026-03-31' })).toEqual({
      flows: ['purchase-orders', 'purchase-order-lines'],
      companies: ['200'],
      since: '2026-01-01',
      until: '2026-03-31',
    });
    expect(buildExecutionInput({ flows: 'suppliers', mode: 'full' })).toEqual({ flows: ['suppliers'], mode: 'full' });
    expect(() => buildExecutionInput({ since: '2026-02-30' })).toThrow(/since: a calendar date/);
    expect(() => buildExecutionInput({ since: '2026-01-01', mode: 'incremental' })).toThrow(/use "mode": "backfill"/);
    expect(() => buildExecutionInput({ mode: 'sometimes' })).toThrow(/mode/);
  });

  it('validates the state machine ARN and links to the execution in the console', () => {
    expect(parseStateMachineArn(ARN)).toMatchObject({ region: 'eu-north-1', account: '123456789012' });
    expect(() => parseStateMachineArn('SyncStateMachine')).toThrow(/must be a state machine ARN/);
    const execution = 'arn:aws:states:eu-north-1:123456789012:execution:SyncStateMachine81090156-abc:rerun-1';
    expect(executionConsoleUrl(execution)).toBe(
      `https://eu-north-1.console.aws.amazon.com/states/home?region=eu-north-1#/v2/executions/details/${encodeURIComponent(execution)}`,
    );
    expect(executionNameFor({ rerunOf: 'x' }, new Date('2026-11-20T07:00:00Z'))).toMatch(/^rerun-20261120T070000Z-[0-9a-f]{6}$/);
    expect(executionNameFor({}, new Date('2026-11-20T07:00:00Z'))).toMatch(/^console-20261120T070000Z-[0-9a-f]{6}$/);
  });

  it('starts the execution with that input and prints the link', async () => {
    const send = vi.fn(async (command: StartExecutionCommand) => ({
      executionArn: `arn:aws:states:eu-north-1:123456789012:execution:SyncStateMachine81090156-abc:${command.input.name}`,
    }));
    const printed: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => printed.push(String(chunk)) > 0);
    try {
      expect(await rerunCommand({ stateMachine: ARN, rerunOf: 'sched-1', name: 'rerun-test' }, { send } as never)).toBe(0);
    } finally {
      out.mockRestore();
    }
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![0].input).toEqual({ stateMachineArn: ARN, name: 'rerun-test', input: '{"rerunOf":"sched-1"}' });
    expect(printed.join('')).toContain('console: https://eu-north-1.console.aws.amazon.com/states/home');
  });
});
