// The services a local sync runs on, started once per session: CloudSuite (the bundled emulator or a real
// tenant), Databricks (the bundled warehouse emulator or a real SQL warehouse), the state and staging
// (localState.ts), secrets in memory, and the handlers' collaborators wired over them through the same
// composition as in Lambda. Real systems are validated before anything starts.
import { ConfigError } from '../../shared/config/configError.ts';
import type { ValidatedFlowsConfig } from '../../shared/config/flowsConfig.ts';
import { loadFlowsConfig } from '../../shared/config/loadFlowsConfig.ts';
import { loadTable } from '../../shared/load/loadTable.ts';
import type { Log } from '../../shared/observability/logger.ts';
import { InProcessExecutions } from '../../shared/pipeline/executionStatus.ts';
import type { PipelineDeps } from '../../shared/pipeline/pipelineDeps.ts';
import { RecordingPipelineMetrics } from '../../shared/pipeline/pipelineMetrics.ts';
import { tenantConnector } from '../../shared/pipeline/tenantConnections.ts';
import { warehouseOpener } from '../../shared/pipeline/warehouseSessions.ts';
import defaultFlowsConfig from '../flows.config.ts';
import { budgeted, budgetedLoader } from './invocationBudget.ts';
import {
  InMemorySecretSource,
  realCloudSuite,
  realWarehouse,
  startLocalCloudSuite,
  startLocalWarehouse,
  type LocalCloudSuite,
  type LocalWarehouse,
} from './localSources.ts';
import { openLocalState, STAGING_BUCKET, type LocalState } from './localState.ts';
import { ensureStateFolder } from './stateFolder.ts';
import type { LocalSyncOptions, LocalSyncTestHooks } from './runLocalSync.ts';

export interface LocalEnvironment {
  deps: PipelineDeps;
  flows: ValidatedFlowsConfig;
  /** Executions running in this process (a rerun asks whether the one it replays has ended). */
  executions: InProcessExecutions;
  cloudSuite: LocalCloudSuite;
  warehouse: LocalWarehouse;
  metrics: RecordingPipelineMetrics;
  /** The SDK clients behind state and staging, on the emulator path (dynalite + s3rver). */
  aws?: LocalState['aws'];
  close(): Promise<void>;
}

export async function openLocalEnvironment(options: LocalSyncOptions, hooks: LocalSyncTestHooks, stateDir: string, log: Log): Promise<LocalEnvironment> {
  const flows = loadFlowsConfig(options.config ? { raw: options.config, source: 'the flows configuration' } : { raw: defaultFlowsConfig });
  if (options.ionapiFile && options.advanceDays) throw new ConfigError('--advance-days moves the bundled emulator\'s calendar; it has no meaning with --ionapi');
  if (options.ionapiFile && options.emulatorKnobs) throw new ConfigError('--emulator-knobs sets up the bundled emulator; it has no meaning with --ionapi');
  // Real systems first: a bad .ionapi file or warehouse target is refused before anything is started or written.
  const tenant = options.ionapiFile ? await realCloudSuite(options.ionapiFile) : undefined;
  const realDatabricks = options.databricks ? realWarehouse(options.databricks, log) : undefined;
  if (realDatabricks && flows.config.warehouse.loadMode === 'copy') {
    throw new ConfigError(
      'loadMode "copy" has a real warehouse read the staged files, but a local sync stages them in the state folder, ' +
        'which the warehouse cannot reach: run the local sync with loadMode "merge", or deploy (infra/README.md, "Loading with COPY INTO")',
    );
  }

  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // The state folder: created here, after validation, and marked as the tool's (sync --reset may delete it).
    await ensureStateFolder(stateDir);
    // dynalite and s3rver only when both sides are emulated; any real system runs on plain files.
    const local = await openLocalState(stateDir, tenant || realDatabricks ? 'files' : 'emulated-aws', log);
    closers.push(() => local.close());
    const knobs = options.emulatorKnobs || hooks.emulator?.knobs ? { knobs: { ...hooks.emulator?.knobs, ...options.emulatorKnobs } } : {};
    const cloudSuite =
      tenant ??
      (await startLocalCloudSuite({ stateDir, ...hooks.emulator, ...knobs, ...(options.advanceDays ? { advanceDays: options.advanceDays } : {}) }));
    closers.push(() => cloudSuite.close());
    // On the emulator path the bundled warehouse reads the local staging bucket through an external location
    // over runs/, as a real warehouse reads S3 (copy mode); with a real tenant the staging is a plain folder.
    const storage = local.aws
      ? { objects: (await import('./emulators/databricks/index.ts')).s3ObjectStorage(local.aws.s3), externalLocations: [`s3://${STAGING_BUCKET}/runs`] }
      : undefined;
    const warehouse = realDatabricks ?? (await startLocalWarehouse(stateDir, log, storage));
    closers.push(() => warehouse.close());

    // The selected flows' tenants must be the one this run can reach.
    const secrets = new InMemorySecretSource();
    const tenants = Object.entries(flows.config.tenants);
    const matching = tenants.find(([id]) => id === cloudSuite.tenant);
    if (!matching) {
      throw new ConfigError(
        `${cloudSuite.description}: tenant "${cloudSuite.tenant}" is not configured; configured tenants: ${tenants.map(([id]) => id).join(', ')}`,
      );
    }
    secrets.set(matching[1].secretName, cloudSuite.ionapi);
    secrets.set(flows.config.warehouse.secretName, warehouse.secret);

    // An emulator restarts with no memory of the tokens it issued: a cached one would only earn a 401.
    if (cloudSuite.emulator) await local.forgetToken(cloudSuite.tenant);
    const tenantConnections = tenantConnector(secrets, local.tokens, log);
    const metrics = new RecordingPipelineMetrics();
    const state = hooks.wrapLeases ? { ...local.state, leases: hooks.wrapLeases(local.state.leases) } : local.state;
    const deps: PipelineDeps = {
      ...state,
      connectTenant: async (secretName, tenant, callOptions) =>
        budgeted(await tenantConnections.connect(secretName, tenant, callOptions), hooks.miCallsPerExtract),
      openWarehouse: warehouseOpener(secrets, warehouse.connect),
      loadTable: budgetedLoader(hooks.loadTable ?? loadTable, hooks.loadStatementsPerInvocation),
      metrics,
      log,
      now: Date.now,
    };
    return {
      deps,
      flows,
      executions: new InProcessExecutions(),
      cloudSuite,
      warehouse,
      metrics,
      ...(local.aws ? { aws: local.aws } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
