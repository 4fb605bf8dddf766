// Delta's write conflicts that are safe to retry. Delta commits optimistically: a transaction that finds a
// conflicting commit (a concurrent append, delete, metadata or protocol change: background OPTIMIZE and
// predictive optimization on clustered tables cause some of these) fails with one of these classes and commits
// nothing. Retrying is then safe for any statement, and every statement the loader sends is idempotent besides,
// so also after an answer that was lost. Error classes from the Databricks documentation, "Isolation levels and
// write conflicts": ConcurrentAppendException, ConcurrentDeleteReadException, ConcurrentDeleteDeleteException,
// MetadataChangedException, ConcurrentTransactionException, ProtocolChangedException, ConcurrentWriteException.
export const RETRYABLE_DELTA_CONFLICTS = [
  'DELTA_CONCURRENT_APPEND',
  'DELTA_CONCURRENT_DELETE_READ',
  'DELTA_CONCURRENT_DELETE_DELETE',
  'DELTA_METADATA_CHANGED',
  'DELTA_CONCURRENT_TRANSACTION',
  'DELTA_PROTOCOL_CHANGED',
  'DELTA_CONCURRENT_WRITE',
] as const;

/** Matches a message that names one of the retryable conflict classes. */
export const DELTA_CONFLICT = new RegExp(`\\b(${RETRYABLE_DELTA_CONFLICTS.join('|')})\\b`);
