// The environment the stack sets on the pipeline functions: names only, so the CDK app
// (infra/stack/pipelineFunctions.ts) imports them without loading any Lambda runtime code.

/** Environment variables the stack sets on every pipeline function. */
export const ENV = {
  stateTable: 'STATE_TABLE_NAME',
  stagingBucket: 'STAGING_BUCKET_NAME',
  tokenCacheKey: 'TOKEN_CACHE_KEY_ARN',
} as const;
