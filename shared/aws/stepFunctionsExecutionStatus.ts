// ExecutionStatusSource over Step Functions' DescribeExecution. The execution's ARN is the state
// machine's with `:execution:` and the name (the asking execution passes its $$.StateMachine.Id).
import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { ConfigError } from '../config/configError.ts';
import type { ExecutionRef, ExecutionStatus, ExecutionStatusSource } from '../pipeline/executionStatus.ts';

export function executionArnOf(stateMachineArn: string, name: string): string {
  const m = /^(arn:[^:]+:states:[^:]*:[^:]*):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!m) throw new ConfigError(`"${stateMachineArn}" is not a Step Functions state machine ARN`);
  return `${m[1]}:execution:${m[2]}:${name}`;
}

export class StepFunctionsExecutionStatus implements ExecutionStatusSource {
  constructor(private readonly client: Pick<SFNClient, 'send'>) {}

  async statusOf(execution: ExecutionRef): Promise<ExecutionStatus> {
    if (!execution.stateMachineArn) throw new ConfigError(`cannot look up execution "${execution.name}": the state machine ARN is missing from the Plan payload`);
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn: executionArnOf(execution.stateMachineArn, execution.name) }));
      return (status ?? 'RUNNING') as ExecutionStatus;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return 'GONE';
      throw error;
    }
  }
}
