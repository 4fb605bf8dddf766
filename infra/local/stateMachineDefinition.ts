// The REAL state machine definition, synthesized in process from the CDK app (bundling skipped) and made
// runnable locally: each Fn::GetAtt (a function's ARN) becomes a fake Lambda ARN and each pseudo parameter
// a fixed value. The local runner then overrides every Task by state name.
import { App } from 'aws-cdk-lib';
import type { ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';
import { CloudSuiteSyncStack } from '../stack/cloudSuiteSyncStack.ts';

export const FAKE_REGION = 'eu-west-1';
export const FAKE_ACCOUNT = '123456789012';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': FAKE_REGION,
  'AWS::AccountId': FAKE_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A DefinitionString (a string, or an Fn::Join of strings, GetAtts and pseudo-parameter Refs) as plain JSON text. */
export function resolveDefinitionString(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown> | null;
  if (node && Array.isArray(node['Fn::Join'])) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveDefinitionString).join(separator);
  }
  if (node && Array.isArray(node['Fn::GetAtt'])) {
    const [logicalId] = node['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${logicalId}`;
  }
  if (node && typeof node.Ref === 'string' && PSEUDO[node.Ref] !== undefined) return PSEUDO[node.Ref]!;
  throw new Error(`cannot resolve ${JSON.stringify(value).slice(0, 200)} in the state machine definition`);
}

export type AslDefinition = Record<string, unknown> & { StartAt: string; States: Record<string, unknown> };

const cache = new Map<string, AslDefinition>();

/** The state machine's ASL as `cdk synth` would deploy it for this configuration. */
export function synthesizeStateMachineDefinition(flows: ValidatedFlowsConfig): AslDefinition {
  const key = JSON.stringify(flows.config);
  const cached = cache.get(key);
  if (cached) return structuredClone(cached);
  // Only the state machine is read: validating the whole template (CDK's built-in CloudFormation validation, a wasm
  // engine that took ~17 s to start in a loaded process and ~1.5 s per synth after) and its tree metadata are for
  // `cdk synth`, where they still run (and test/infra checks the template).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false, treeMetadata: false });
  const stack = new CloudSuiteSyncStack(app, 'LocalSync', { flows });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine in the stack, found ${machines.length}`);
  const asl = JSON.parse(resolveDefinitionString(machines[0]!.Properties.DefinitionString)) as AslDefinition;
  cache.set(key, asl);
  return structuredClone(asl);
}
