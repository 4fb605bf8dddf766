// The metrics the pipeline publishes, behind a port: Powertools EMF in Lambda (shared/aws/powertoolsPipelineMetrics.ts:
// CloudWatch reads them from the logs, no PutMetricData permission needed), a recording sink for the local sync
// and the tests. Names and dimensions only, no runtime library: the stack's alarms import them at synth time.

export const METRICS_NAMESPACE = 'CloudSuiteSync';
/** Powertools adds `service` to every metric's dimensions: alarms must name it too. */
export const METRICS_SERVICE = 'cloudsuite-sync';

/** The dimensions a point is published with (a CloudWatch metric is identified by all of them). */
export function metricDimensions(flow?: string): Record<string, string> {
  return flow === undefined ? { service: METRICS_SERVICE } : { service: METRICS_SERVICE, Flow: flow };
}

/** The dimensions of a per-schema point (the finance marts live per catalog and schema). */
export function schemaMetricDimensions(schema: string): Record<string, string> {
  return { service: METRICS_SERVICE, Schema: schema };
}

/** Metric names the alarms and the dashboard refer to (infra/stack). */
export const MetricNames = {
  recordsExtracted: 'RecordsExtracted',
  recordsLoaded: 'RecordsLoaded',
  extractSeconds: 'ExtractSeconds',
  loadSeconds: 'LoadSeconds',
  /** One per table commit of a flow: the freshness alarm fires when none arrives in the expected interval. */
  successfulCommits: 'SuccessfulCommits',
  /** Seconds from the run's start to the commit: how old the freshest data is when it lands. */
  commitLagSeconds: 'CommitLagSeconds',
  runSeconds: 'RunSeconds',
  failedUnits: 'FailedUnits',
  /** Rows of gl_unbalanced_vouchers per schema after the marts are refreshed: above 0 a voucher is incomplete in the warehouse. */
  unbalancedVouchers: 'UnbalancedVouchers',
  /** Units a load refused because what it was about to merge differed from what was staged (control totals). */
  controlTotalMismatches: 'ControlTotalMismatches',
  /** Data quality: current rows whose content changed although M3's change stamp did not move (repaired by a later read). */
  changedWithoutNewStamp: 'ChangedWithoutNewStamp',
  /** Data quality: keys a complete read (snapshot, full, reconcile) no longer found, soft-deleted. */
  keysDeletedAtSource: 'KeysDeletedAtSource',
} as const;

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

export interface MetricPoint {
  name: MetricName;
  unit: 'Count' | 'Seconds';
  value: number;
  /** Published with the Flow dimension (per-flow alarms and widgets); without it, as a run-level metric. */
  flow?: string;
  /** Published with the Schema dimension (`catalog.schema`) instead: metrics of the marts. */
  schema?: string;
}

export interface PipelineMetrics {
  publish(points: readonly MetricPoint[]): void;
}

/** Keeps every point in memory (local sync summary, tests). */
export class RecordingPipelineMetrics implements PipelineMetrics {
  readonly points: MetricPoint[] = [];

  publish(points: readonly MetricPoint[]): void {
    this.points.push(...points);
  }
}
