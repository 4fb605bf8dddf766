// The stack as `cdk synth` builds it from infra/flows.config.ts, with bundling skipped (tests do not run
// esbuild), and helpers to read per-function IAM statements and the state machine definition from it.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../infra/app.ts';
import { resolveDefinitionString } from '../../../infra/local/stateMachineDefinition.ts';
import type { CloudSuiteSyncStack } from '../../../infra/stack/cloudSuiteSyncStack.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string[]>>;
  Effect: string;
}

let synthesized: { stack: CloudSuiteSyncStack; template: Template } | undefined;

export function stackTemplate(): { stack: CloudSuiteSyncStack; template: Template; resources: Record<string, Resource> } {
  synthesized ??= (() => {
    // CloudFormation's built-in template validation only reports warnings here (no test reads them) and costs
    // seconds per file (a WASM engine); `cdk synth` keeps it.
    const { stack } = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false }));
    return { stack, template: Template.fromStack(stack) };
  })();
  return { ...synthesized, resources: synthesized.template.toJSON().Resources as Record<string, Resource> };
}

/** Logical id of the pipeline function with this name (plan, extract, …). */
export function functionLogicalId(name: string): string {
  const { stack } = stackTemplate();
  const fn = stack.pipeline.functions[name as keyof typeof stack.pipeline.functions];
  return stack.getLogicalId(fn.node.defaultChild as never);
}

/** Every IAM statement attached to the function's role. */
export function statementsOf(name: string): Statement[] {
  const { resources } = stackTemplate();
  const fn = resources[functionLogicalId(name)]!;
  const roleId = ((fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The text of a resource reference, for matching (e.g. "StorageStaging…/plans/*"). */
export function resourceText(resource: unknown): string {
  return JSON.stringify(resource);
}

export function stateMachineDefinition(): { StartAt: string; States: Record<string, Record<string, unknown>> } {
  const { resources } = stackTemplate();
  const machine = Object.values(resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;
  return JSON.parse(resolveDefinitionString(machine.Properties.DefinitionString));
}
