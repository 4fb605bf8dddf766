// The pipeline's Lambda functions (thin entry points in functions/), bundled locally by esbuild as ESM for
// nodejs24.x, each with only the permissions it needs: state-table items are scoped by their leading key
// (wm#, run#, lease#, and token#<tenant> per configured tenant), staging objects by prefix (plans/, runs/),
// the staging bucket's key to S3's use of it for this bucket, the token key to the token-cache encryption
// context of the configured tenants, logs to the function's own group. Every function is traced by X-Ray.
// Each entry imports only the dependency factories its function uses (functions/support), so each bundle
// holds only that; test/infra/functionBundles.test.ts bundles them with FUNCTION_BUNDLE_OPTIONS and checks.
// Synth loads no Lambda runtime code: from functions/ only the environment names (environment.ts).
import path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { ENV } from '../../functions/support/environment.ts';
import { flowsConfigDefine } from '../../shared/config/loadFlowsConfig.ts';
import type { FlowsConfig } from '../../shared/config/flowsConfig.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/pipeline/pipelineMetrics.ts';
import { keyOf, TOKEN_SEAL_PURPOSE } from '../../shared/state/stateTable.ts';
import type { PipelineFunctionName } from './stateNames.ts';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/** Modules left out of every bundle: native add-ons that @databricks/sql loads optionally. */
export const BUNDLE_EXTERNALS = ['@antoniomuso/lz4-napi-*', 'lz4-napi', '@databricks/databricks-sql-kernel-*'];

/** ESM bundles still contain CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER = "import { createRequire as __cloudsuiteSyncCreateRequire } from 'node:module'; const require = __cloudsuiteSyncCreateRequire(import.meta.url);";

/**
 * The esbuild options of every function bundle, in esbuild's own terms: the stack hands them to NodejsFunction
 * (cdkBundling below), the bundle test to esbuild's API, so the two cannot drift. CDK adds --bundle,
 * --platform=node and the outfile (index.mjs).
 */
export const FUNCTION_BUNDLE_OPTIONS = {
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  // An explicit list: the AWS SDK v3 is bundled (pinned to the tested version), not taken from the runtime.
  external: BUNDLE_EXTERNALS,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
} as const satisfies BuildOptions;

export function functionEntry(name: PipelineFunctionName): string {
  return path.join(PROJECT_ROOT, 'functions', `${name}.ts`);
}

/** Plan carries the validated flows configuration (shared/config/loadFlowsConfig.ts); no other function has a define. */
export function functionDefine(name: PipelineFunctionName, config: FlowsConfig): Record<string, string> | undefined {
  return name === 'plan' ? flowsConfigDefine(config) : undefined;
}

/** FUNCTION_BUNDLE_OPTIONS as NodejsFunction's bundling props. */
function cdkBundling(define: Record<string, string> | undefined): BundlingOptions {
  const options = FUNCTION_BUNDLE_OPTIONS;
  return {
    format: options.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
    target: options.target,
    mainFields: [...options.mainFields],
    banner: options.banner.js,
    externalModules: [...options.external],
    minify: options.minify,
    sourceMap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    ...(define ? { define } : {}),
  };
}

interface FunctionSpec {
  description: string;
  memorySize: number;
  timeout: Duration;
}

export const FUNCTION_SPECS: Record<PipelineFunctionName, FunctionSpec> = {
  plan: { description: 'Plan: expand flows into units, windows from watermarks, open the run', memorySize: 512, timeout: Duration.minutes(2) },
  extract: { description: 'Extract: one unit from CloudSuite into S3, continuing by checkpoint', memorySize: 1024, timeout: Duration.minutes(15) },
  recordFailure: { description: 'Record a failed unit or table in the run ledger', memorySize: 256, timeout: Duration.minutes(1) },
  groupByTable: { description: 'Group extracted units by target table', memorySize: 256, timeout: Duration.minutes(1) },
  load: { description: 'Load: one Databricks table from its staged units, under the table lease', memorySize: 1024, timeout: Duration.minutes(15) },
  commit: { description: 'Commit: advance watermarks of a loaded table, publish metrics', memorySize: 256, timeout: Duration.minutes(2) },
  finishRun: { description: 'Finish: close the run ledger, decide success or failure', memorySize: 256, timeout: Duration.minutes(1) },
};

export interface PipelineFunctionsProps {
  config: FlowsConfig;
  table: ITable;
  bucket: IBucket;
  /** The staging bucket's KMS key (SSE-KMS with S3 Bucket Keys). */
  bucketKey: IKey;
  tokenKey: IKey;
  tenantSecrets: ISecret[];
  warehouseSecret: ISecret;
  /** The state machine's (fixed) name: Plan describes its executions when a rerun replays one. */
  stateMachineName: string;
}

type ItemPrefix = 'wm' | 'run' | 'lease';

export class PipelineFunctions extends Construct {
  readonly functions: Record<PipelineFunctionName, NodejsFunction>;
  /** The staging-key actions each function needs, from the object actions it was granted. */
  private readonly stagingKeyActions = new Map<NodejsFunction, Set<string>>();

  constructor(scope: Construct, id: string, private readonly props: PipelineFunctionsProps) {
    super(scope, id);
    const make = (name: PipelineFunctionName) => this.makeFunction(name, functionDefine(name, props.config));
    this.functions = {
      plan: make('plan'),
      extract: make('extract'),
      recordFailure: make('recordFailure'),
      groupByTable: make('groupByTable'),
      load: make('load'),
      commit: make('commit'),
      finishRun: make('finishRun'),
    };
    this.grantLeastPrivilege();
  }

  private makeFunction(name: PipelineFunctionName, define?: Record<string, string>): NodejsFunction {
    const spec = FUNCTION_SPECS[name];
    const logGroup = new LogGroup(this, `${name}Logs`, { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    // Its own role instead of AWSLambdaBasicExecutionRole (logs in any group): it writes only to its log group.
    const role = new Role(this, `${name}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `CloudSuite sync ${name} function`,
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, name, {
      role,
      entry: functionEntry(name),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      description: spec.description,
      logGroup,
      // Active tracing: every invocation is a segment of the execution's X-Ray trace (the state machine traces too).
      tracing: Tracing.ACTIVE,
      environment: {
        [ENV.stateTable]: this.props.table.tableName,
        [ENV.stagingBucket]: this.props.bucket.bucketName,
        [ENV.tokenCacheKey]: this.props.tokenKey.keyArn,
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: cdkBundling(define),
    });
    return fn;
  }

  /** DynamoDB actions on items whose partition key starts with one of the prefixes. */
  private items(fn: NodejsFunction, prefixes: ItemPrefix[], actions: string[]): void {
    this.itemsWithKeys(fn, prefixes.map((p) => `${p}#*`), actions);
  }

  private itemsWithKeys(fn: NodejsFunction, leadingKeys: string[], actions: string[]): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [this.props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
      }),
    );
  }

  /** s3:ListBucket, only under one of the prefixes a function works in. */
  private listing(fn: NodejsFunction, prefix: 'plans' | '_warehouse'): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [this.props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
      }),
    );
  }

  private objects(fn: NodejsFunction, prefix: 'plans' | 'runs' | '_warehouse', actions: string[]): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: actions.map((a) => `s3:${a}`),
        resources: [this.props.bucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    // SSE-KMS: reading decrypts the data key; writing asks for one (and multipart parts decrypt it again).
    const kms = this.stagingKeyActions.get(fn) ?? new Set<string>();
    kms.add('kms:Decrypt');
    if (actions.includes('PutObject')) kms.add('kms:GenerateDataKey');
    this.stagingKeyActions.set(fn, kms);
  }

  /**
   * The staging key, only as S3 uses it for this bucket: through S3 in this region, and with the bucket's ARN
   * as encryption context (what S3 Bucket Keys send).
   */
  private grantStagingKey(): void {
    const { bucket, bucketKey } = this.props;
    for (const [fn, actions] of this.stagingKeyActions) {
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...actions].sort(),
          resources: [bucketKey.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com`,
              'kms:EncryptionContext:aws:s3:arn': bucket.bucketArn,
            },
          },
        }),
      );
    }
  }

  private grantLeastPrivilege(): void {
    const { plan, extract, recordFailure, groupByTable, load, commit, finishRun } = this.functions;
    const { tokenKey, tenantSecrets, warehouseSecret } = this.props;
    const tenants = Object.keys(this.props.config.tenants).sort();
    const readPlans = (fn: NodejsFunction) => this.objects(fn, 'plans', ['GetObject']);
    // The token cache of the configured tenants only: their items, and the key only under their encryption
    // context (shared/aws/sealedToken.ts), so the role cannot decrypt anything else sealed with the key.
    const tokenCache = (fn: NodejsFunction) => {
      this.itemsWithKeys(fn, tenants.map((tenant) => keyOf('token', tenant)), ['GetItem', 'PutItem', 'DeleteItem']);
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [tokenKey.keyArn],
          conditions: {
            StringEquals: { 'kms:EncryptionContext:purpose': TOKEN_SEAL_PURPOSE, 'kms:EncryptionContext:tenant': tenants },
            'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['purpose', 'tenant'] },
          },
        }),
      );
      for (const secret of tenantSecrets) secret.grantRead(fn);
    };

    // Plan: reads watermarks, opens the run and its units, writes the plan; lists divisions through M3.
    this.items(plan, ['wm'], ['GetItem', 'Query']);
    this.items(plan, ['run'], ['GetItem', 'PutItem', 'UpdateItem', 'Query']);
    this.objects(plan, 'plans', ['GetObject', 'PutObject']);
    // Without ListBucket, S3 answers a missing plan with 403 instead of 404: Plan must tell "no such
    // execution" (a rerun of an unknown name, a first attempt) from a permission problem. Listing is limited
    // to plans/; should S3 still answer 403 for a missing plan, the store lists the key to tell (s3BlobStore.ts).
    this.listing(plan, 'plans');
    tokenCache(plan);
    // A rerun of an execution whose run is still open asks whether that execution ended.
    NagSuppressions.addResourceSuppressions(
      plan.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'Execution names are chosen when an execution starts; the wildcard covers only the executions of this stack\'s own state machine.',
          appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:[A-Za-z0-9-]+-sync:\\*$/g' }],
        },
      ],
      true,
    );
    plan.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${this.props.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
    );

    // Extract: moves its unit along the ledger, stages part files and checkpoints, calls M3.
    this.items(extract, ['run'], ['GetItem', 'UpdateItem']);
    readPlans(extract);
    this.objects(extract, 'runs', ['GetObject', 'PutObject', 'AbortMultipartUpload']);
    tokenCache(extract);

    this.items(recordFailure, ['run'], ['GetItem', 'UpdateItem', 'Query']);
    readPlans(recordFailure);

    this.items(groupByTable, ['run'], ['Query']);
    readPlans(groupByTable);

    // Load: reads staged units, holds the table lease, connects to Databricks.
    this.items(load, ['run'], ['GetItem', 'UpdateItem', 'Query']);
    this.items(load, ['lease'], ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    readPlans(load);
    this.objects(load, 'runs', ['GetObject']);
    // What the last look at each target table established (REMEMBERED_LOOKS_PREFIX of shared/load/rememberedLook.ts,
    // spelled out here: cdk synth loads nothing of the loader): read, rewritten daily.
    // Also what each finished load leaves for its control totals (shared/load/controlTotalsWriter.ts): written by
    // Load, listed, read and removed by RefreshMarts (served by the same function).
    this.objects(load, '_warehouse', ['GetObject', 'PutObject', 'DeleteObject']);
    this.listing(load, '_warehouse');
    warehouseSecret.grantRead(load);

    // Commit: advances watermarks, marks units committed (metrics go out as EMF log lines: no IAM).
    this.items(commit, ['wm'], ['GetItem', 'UpdateItem']);
    this.items(commit, ['run'], ['GetItem', 'UpdateItem', 'Query']);
    readPlans(commit);

    this.items(finishRun, ['run'], ['GetItem', 'UpdateItem', 'Query']);
    readPlans(finishRun);
    this.grantStagingKey();

    const stack = Stack.of(this);
    for (const fn of Object.values(this.functions)) {
      NagSuppressions.addResourceSuppressions(
        fn.role!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'Object wildcards are limited to the staging prefixes the function works in (plans/, runs/, and for Load ' +
              '_warehouse/, one object per target table and per finished load): run ids, unit folders, target tables and loads are known only at run time.',
            appliesTo: [
              { regex: `/^Resource::<${stack.getLogicalId(this.props.bucket.node.defaultChild as never)}\\.Arn>\\/(plans|runs|_warehouse)\\/\\*$/g` },
            ],
          },
          {
            id: 'AwsSolutions-IAM5',
            reason: 'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions, so their resource is "*".',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
    }
  }
}
