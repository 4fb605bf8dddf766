// `rerun --state-machine ARN ...`: starts an execution of the deployed state machine (a replay of an
// execution's failed units, a backfill, or a run of some flows/companies) and prints its console link.
// The input is exactly what an operator could paste into the console (see infra/README.md).
import { randomBytes } from 'node:crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseExecutionInput } from '../../../shared/pipeline/executionInput.ts';
import { result, UsageError } from '../output.ts';
import { commaList, type RunSelectionOptions } from '../runSelection.ts';

export interface RerunOptions extends RunSelectionOptions {
  stateMachine: string;
  rerunOf?: string;
  /** Execution name (default rerun-… or console-… with the time). */
  name?: string;
}

const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;

export function parseStateMachineArn(arn: string): { partition: string; region: string; account: string; name: string } {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match) throw new UsageError(`--state-machine must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got "${arn}"`);
  return { partition: match[1]!, region: match[2]!, account: match[3]!, name: match[4]! };
}

/** The execution input for the options, validated as the Plan step will validate it. */
export function buildExecutionInput(options: Omit<RerunOptions, 'stateMachine' | 'name'>): Record<string, unknown> {
  if (options.rerunOf) {
    if (options.flows || options.companies || options.divisions || options.since || options.until || options.mode) {
      throw new UsageError('--rerun-of replays exactly the failed units of that execution: leave out the other options');
    }
    const input = { rerunOf: options.rerunOf.replace(/^.*:/, '') };
    parseExecutionInput(input);
    return input;
  }
  const flows = commaList(options.flows);
  const companies = commaList(options.companies);
  const divisions = commaList(options.divisions);
  const input: Record<string, unknown> = {
    ...(flows ? { flows } : {}),
    ...(companies ? { companies } : {}),
    ...(divisions ? { divisions } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
  };
  parseExecutionInput(input);
  return input;
}

export function executionNameFor(input: Record<string, unknown>, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${'rerunOf' in input ? 'rerun' : 'console'}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The Step Functions console page of an execution. */
export function executionConsoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? '';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

export async function rerunCommand(options: RerunOptions, client?: Pick<SFNClient, 'send'>): Promise<number> {
  const { region } = parseStateMachineArn(options.stateMachine);
  const input = buildExecutionInput(options);
  const name = options.name ?? executionNameFor(input);
  const sfn = client ?? new SFNClient({ region });
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: options.stateMachine, name, input: JSON.stringify(input) }));
  const executionArn = started.executionArn ?? `${options.stateMachine.replace(':stateMachine:', ':execution:')}:${name}`;
  result(`started ${name} with input ${JSON.stringify(input)}`);
  result(`console: ${executionConsoleUrl(executionArn)}`);
  result(JSON.stringify({ executionArn, name, input }));
  return 0;
}
