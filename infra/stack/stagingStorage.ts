// The staging bucket (plans/ and runs/: gzip JSON Lines, manifests, checkpoints) and its access-log bucket.
// Staged records are financial data, so the bucket is encrypted with a customer-managed KMS key (its use is
// logged in CloudTrail, grantable per role, revocable) with S3 Bucket Keys, which cut KMS requests to about
// one per object batch instead of one per object; the access-log bucket stays on SSE-S3, the only encryption
// S3 server access logging delivers to.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface StagingStorageProps {
  /** Days staged files under runs/ are kept. */
  stagingRetentionDays: number;
  /** Days run plans under plans/ are kept (reruns need them): the run retention. */
  planRetentionDays: number;
}

export class StagingStorage extends Construct {
  readonly bucket: Bucket;
  /** The staging bucket's key: every reader of staged objects needs kms:Decrypt on it (the pipeline, a Databricks storage credential). */
  readonly key: Key;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: StagingStorageProps) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    NagSuppressions.addResourceSuppressions(this.accessLogs, [
      { id: 'AwsSolutions-S1', reason: 'This is the access-log bucket of the staging bucket; logging it into itself would loop.' },
    ]);

    this.key = new Key(this, 'StagingKey', {
      description: 'Encrypts the CloudSuite sync staging bucket (staged CloudSuite records, plans, manifests)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Staging', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'staging/',
      lifecycleRules: [
        { id: 'expire-runs', prefix: 'runs/', expiration: Duration.days(props.stagingRetentionDays) },
        { id: 'expire-plans', prefix: 'plans/', expiration: Duration.days(props.planRetentionDays) },
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
