// The CDK app (cdk.json runs it with tsx): loads infra/flows.config.ts and builds the stack.
// Synthesizes offline: no lookups, functions bundled by the local esbuild.
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadFlowsConfig } from '../shared/config/loadFlowsConfig.ts';
import flowsConfig from './flows.config.ts';
import { CloudSuiteSyncStack } from './stack/cloudSuiteSyncStack.ts';

export const STACK_NAME = 'CloudSuiteSync';

export function buildApp(app = new App()): { app: App; stack: CloudSuiteSyncStack } {
  const stack = new CloudSuiteSyncStack(app, STACK_NAME, {
    flows: loadFlowsConfig({ raw: flowsConfig }),
    description: 'Serverless sync of Infor CloudSuite (M3) records into Databricks',
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } } : {}),
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stack };
}

if (process.argv[1] && import.meta.filename === (await import('node:fs')).realpathSync(process.argv[1])) {
  buildApp().app.synth();
}
