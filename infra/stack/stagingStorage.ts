// The staging bucket (plans/ and runs/: gzip JSON Lines, manifests, checkpoints) and its access-log bucket.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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

    this.bucket = new Bucket(this, 'Staging', {
      encryption: BucketEncryption.S3_MANAGED,
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
