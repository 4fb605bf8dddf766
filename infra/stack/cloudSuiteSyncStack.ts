// The whole sync as one stack: staging storage, the state table, secrets, the pipeline functions, the
// state machine, its schedules, and monitoring. Everything an operator changes is in infra/flows.config.ts.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';
import { FlowSchedules } from './flowSchedules.ts';
import { PipelineFunctions } from './pipelineFunctions.ts';
import { PipelineSecrets } from './pipelineSecrets.ts';
import { PipelineStateMachine } from './pipelineStateMachine.ts';
import { StagingStorage } from './stagingStorage.ts';
import { StateStore } from './stateStore.ts';
import { SyncMonitoring } from './syncMonitoring.ts';
import { WarehouseStagingAccess } from './warehouseStagingAccess.ts';

export interface CloudSuiteSyncStackProps extends StackProps {
  flows: ValidatedFlowsConfig;
}

export class CloudSuiteSyncStack extends Stack {
  readonly storage: StagingStorage;
  readonly state: StateStore;
  readonly secrets: PipelineSecrets;
  readonly pipeline: PipelineFunctions;
  readonly stateMachine: PipelineStateMachine;
  readonly schedules: FlowSchedules;
  readonly monitoring: SyncMonitoring;
  /** Copy mode only: the role a Databricks storage credential assumes to read the staged files. */
  readonly warehouseAccess?: WarehouseStagingAccess;

  constructor(scope: Construct, id: string, props: CloudSuiteSyncStackProps) {
    super(scope, id, props);
    const { config } = props.flows;
    this.storage = new StagingStorage(this, 'Storage', {
      stagingRetentionDays: config.stagingRetentionDays,
      planRetentionDays: config.runRetentionDays,
    });
    this.state = new StateStore(this, 'State');
    this.secrets = new PipelineSecrets(this, 'Secrets', config);
    const stateMachineName = `${this.stackName}-sync`;
    this.pipeline = new PipelineFunctions(this, 'Pipeline', {
      config,
      table: this.state.table,
      bucket: this.storage.bucket,
      bucketKey: this.storage.key,
      tokenKey: this.state.tokenKey,
      tenantSecrets: [...this.secrets.tenants.values()],
      warehouseSecret: this.secrets.warehouse,
      stateMachineName,
    });
    this.stateMachine = new PipelineStateMachine(this, 'Sync', { functions: this.pipeline.functions, maxConcurrency: config.maxConcurrency, stateMachineName });
    this.schedules = new FlowSchedules(this, 'Schedules', { flows: props.flows, stateMachine: this.stateMachine.stateMachine });
    this.monitoring = new SyncMonitoring(this, 'Monitoring', {
      config,
      stateMachine: this.stateMachine.stateMachine,
      functions: this.pipeline.functions,
      scheduleDeadLetters: this.schedules.deadLetterQueue,
    });
    if (config.warehouse.loadMode === 'copy') this.warehouseAccess = new WarehouseStagingAccess(this, 'WarehouseAccess', { bucket: this.storage.bucket, bucketKey: this.storage.key });

    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachine.stateMachineArn, description: 'for `cloudsuite-sync rerun --state-machine`' });
    new CfnOutput(this, 'StagingBucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'StateTableName', { value: this.state.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'StagingKeyArn', { value: this.storage.key.keyArn, description: 'readers of staged files (a Databricks storage credential) need kms:Decrypt on it' });
  }
}
