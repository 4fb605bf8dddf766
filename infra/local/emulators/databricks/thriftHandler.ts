// The TCLIService handler: sessions, operations and the seven RPCs the Node driver uses, answered the way a
// Databricks SQL warehouse answers them: statement failures as SUCCESS + ERROR_STATE (OperationStateError),
// RPC-level failures (unknown handle or catalog, unsupported RPC, injected) as ERROR_STATUS (StatusError).
import { randomBytes, randomUUID } from 'node:crypto';
import { thrift } from '@databricks/sql';
import { WarehouseError, databricksErrors, toWarehouseError } from './errors.ts';
import type { FaultRegistry, FaultedRpc } from './faults.ts';
import { StatementParameters } from './parameters.ts';
import type { ResultSet } from './results.ts';
import { statementBytes, type StatementLogEntry } from './statementLog.ts';
import { modeledMs, writtenBytes, type LatencyModel } from './latencyModel.ts';
import { scaledMs } from '../../../../shared/runtime/timeScale.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { arrowRowSet, arrowSchemaBytes, columnBasedRowSet, thriftSchema, toInt64, type ArrowOptions } from './thriftRowSets.ts';
import { StatementFailure, type Warehouse, type WarehouseSession } from './warehouse.ts';

const T = thrift.TCLIService_types;
type Req<K extends keyof typeof T> = (typeof T)[K] extends abstract new (...args: never[]) => infer I ? I : never;
type Status = Req<'TStatus'>;
type HandleIdentifier = { guid: Buffer; secret?: Buffer } | undefined | null;

/** How long GetOperationStatus waits for a running statement before answering RUNNING (a long poll). */
const STATUS_LONG_POLL_MS = 5_000;
const FETCH_LOGS = 1;

interface Operation {
  readonly guid: Buffer;
  readonly sessionKey: string;
  readonly sql: string;
  readonly format: 'arrow' | 'column';
  readonly arrowOptions: ArrowOptions;
  readonly startedAt: number;
  completedAt?: number;
  done: Promise<void>;
  result?: ResultSet;
  error?: WarehouseError;
  cursor: number;
}

interface Session {
  readonly id: string;
  readonly guid: Buffer;
  readonly warehouseSession: WarehouseSession;
  readonly operations: Set<string>;
}

export interface HandlerDependencies {
  readonly warehouse: Warehouse;
  readonly faults: FaultRegistry;
  readonly log: StatementLogEntry[];
  readonly maxStatementBytes: number;
  /** Models a real warehouse's statement latency (logged, and slept when its mode is 'sleep'). */
  readonly latency?: LatencyModel;
}

const success = (): Status => new T.TStatus({ statusCode: T.TStatusCode.SUCCESS_STATUS });

const errorStatus = (error: WarehouseError): Status =>
  new T.TStatus({
    statusCode: T.TStatusCode.ERROR_STATUS,
    errorMessage: error.message,
    displayMessage: error.message,
    sqlState: error.sqlState,
    errorCode: 0,
  });

const invalidHandle = (what: 'Session' | 'Operation') =>
  new WarehouseError('INVALID_HANDLE', 'HY000', `Invalid ${what}Handle: it is unknown, closed, or belongs to another warehouse.`);

const keyOf = (id: HandleIdentifier): string => (id?.guid ? Buffer.from(id.guid).toString('hex') : '');

/** A random RFC-4122 version-4 UUID as the 16 bytes the driver expects in a handle. */
function newGuid(): { guid: Buffer; id: string } {
  const id = randomUUID();
  return { guid: Buffer.from(id.replaceAll('-', ''), 'hex'), id };
}

export class ThriftHandler {
  private readonly sessions = new Map<string, Session>();
  private readonly operations = new Map<string, Operation>();

  constructor(private readonly deps: HandlerDependencies) {}

  /** Resolves once the operation's statement has finished (however it ended). */
  async operationDone(operationGuidHex: string): Promise<void> {
    await this.operations.get(operationGuidHex)?.done;
  }

  /** The statement behind an operation handle (lets HTTP faults match FetchResults by SQL). */
  sqlOfOperation(operationGuidHex: string): string | undefined {
    return this.operations.get(operationGuidHex)?.sql;
  }

  async OpenSession(req: Req<'TOpenSessionReq'>): Promise<Req<'TOpenSessionResp'>> {
    try {
      this.failOnInjectedError('OpenSession');
      const namespace = req.initialNamespace;
      const warehouseSession = await this.deps.warehouse.openSession({
        catalog: namespace?.catalogName ?? null,
        schema: namespace?.schemaName ?? null,
      });
      const { guid, id } = newGuid();
      this.sessions.set(guid.toString('hex'), { id, guid, warehouseSession, operations: new Set() });
      return new T.TOpenSessionResp({
        status: success(),
        serverProtocolVersion: T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
        sessionHandle: new T.TSessionHandle({ sessionId: new T.THandleIdentifier({ guid, secret: randomBytes(16) }) }),
        canUseMultipleCatalogs: true,
        configuration: {},
      });
    } catch (error) {
      return new T.TOpenSessionResp({
        status: errorStatus(toWarehouseError(error)),
        serverProtocolVersion: T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
      });
    }
  }

  async CloseSession(req: Req<'TCloseSessionReq'>): Promise<Req<'TCloseSessionResp'>> {
    try {
      this.failOnInjectedError('CloseSession');
      const key = keyOf(req.sessionHandle?.sessionId);
      const session = this.sessions.get(key);
      if (!session) throw invalidHandle('Session');
      this.sessions.delete(key);
      for (const operationKey of session.operations) this.operations.delete(operationKey);
      await session.warehouseSession.close();
      return new T.TCloseSessionResp({ status: success() });
    } catch (error) {
      return new T.TCloseSessionResp({ status: errorStatus(toWarehouseError(error)) });
    }
  }

  async ExecuteStatement(req: Req<'TExecuteStatementReq'>): Promise<Req<'TExecuteStatementResp'>> {
    const sessionKey = keyOf(req.sessionHandle?.sessionId);
    const session = this.sessions.get(sessionKey);
    if (!session) return new T.TExecuteStatementResp({ status: errorStatus(invalidHandle('Session')) });

    const sql = req.statement ?? '';
    const { guid } = newGuid();
    const nativeTypes = req.useArrowNativeTypes;
    const operation: Operation = {
      guid,
      sessionKey,
      sql,
      format: req.canReadArrowResult ? 'arrow' : 'column',
      arrowOptions: { decimalAsArrow: nativeTypes?.decimalAsArrow === true, timestampAsArrow: nativeTypes?.timestampAsArrow === true },
      startedAt: Date.now(),
      done: Promise.resolve(),
      cursor: 0,
    };
    operation.done = this.run(session, operation, req.parameters ?? []);
    this.operations.set(guid.toString('hex'), operation);
    session.operations.add(guid.toString('hex'));

    return new T.TExecuteStatementResp({
      status: success(),
      operationHandle: new T.TOperationHandle({
        operationId: new T.THandleIdentifier({ guid, secret: randomBytes(16) }),
        operationType: T.TOperationType.EXECUTE_STATEMENT,
        hasResultSet: true,
      }),
    });
  }

  /** Runs the statement in the background; the outcome lands on the operation and in the statement log. */
  private async run(session: Session, operation: Operation, wireParameters: readonly Req<'TSparkParameter'>[]): Promise<void> {
    let parameters = StatementParameters.none;
    let translatedSql = '';
    let rows: number | undefined;
    let bytesRead: number | undefined;
    let bytes = Buffer.byteLength(operation.sql, 'utf8');
    try {
      parameters = StatementParameters.fromWire(wireParameters);
      bytes = statementBytes(operation.sql, parameters.valueBytes);
      const fault = this.deps.faults.take('ExecuteStatement', 'error-state', operation.sql);
      if (fault) throw databricksErrors.injected(fault.errorClass ?? 'INTERNAL_ERROR', fault.sqlState ?? 'XX000');
      if (bytes > this.deps.maxStatementBytes) throw databricksErrors.statementTooLarge(bytes, this.deps.maxStatementBytes);
      const outcome = await session.warehouseSession.execute(operation.sql, parameters);
      operation.result = outcome.result;
      translatedSql = outcome.translatedSql;
      rows = outcome.rows;
      bytesRead = outcome.bytesRead;
    } catch (error) {
      operation.error = toWarehouseError(error instanceof StatementFailure ? error.error : error);
      if (error instanceof StatementFailure) translatedSql = error.translatedSql;
    }
    const latency = this.deps.latency;
    let modeled: { writtenBytes: number; modeledMs: number } | undefined;
    if (latency) {
      const written = operation.error ? 0 : writtenBytes(operation.sql, { parameterBytes: parameters.valueBytes, ...(bytesRead === undefined ? {} : { bytesRead }), ...(rows === undefined ? {} : { rowsWritten: rows }) }, latency);
      modeled = { writtenBytes: written, modeledMs: modeledMs(latency, operation.sql, written) };
      if (latency.mode === 'sleep') await delay(scaledMs(modeled.modeledMs));
    }
    operation.completedAt = Date.now();
    this.deps.log.push({
      sessionId: session.id,
      sql: operation.sql,
      parameters: parameters.toLogValue(),
      translatedSql,
      ok: operation.error === undefined,
      ...(operation.error ? { error: operation.error.message, sqlState: operation.error.sqlState } : {}),
      ...(rows === undefined ? {} : { rows }),
      bytes,
      startedAt: operation.startedAt,
      ms: operation.completedAt - operation.startedAt,
      ...(modeled ?? {}),
    });
  }

  async GetOperationStatus(req: Req<'TGetOperationStatusReq'>): Promise<Req<'TGetOperationStatusResp'>> {
    const operation = this.operations.get(keyOf(req.operationHandle?.operationId));
    if (!operation) return new T.TGetOperationStatusResp({ status: errorStatus(invalidHandle('Operation')) });
    const fault = this.deps.faults.take('GetOperationStatus', 'error-state', operation.sql);
    const finished = await settlesWithin(operation.done, STATUS_LONG_POLL_MS);
    const error = fault ? databricksErrors.injected(fault.errorClass ?? 'INTERNAL_ERROR', fault.sqlState ?? 'XX000') : operation.error;
    const timing = {
      operationStarted: toInt64(operation.startedAt),
      ...(operation.completedAt === undefined ? {} : { operationCompleted: toInt64(operation.completedAt) }),
    };
    if (error) {
      return new T.TGetOperationStatusResp({
        status: success(),
        operationState: T.TOperationState.ERROR_STATE,
        errorMessage: error.message,
        displayMessage: error.message,
        sqlState: error.sqlState,
        errorCode: 0,
        hasResultSet: true,
        ...timing,
      });
    }
    return new T.TGetOperationStatusResp({
      status: success(),
      operationState: finished ? T.TOperationState.FINISHED_STATE : T.TOperationState.RUNNING_STATE,
      hasResultSet: true,
      ...timing,
    });
  }

  async GetResultSetMetadata(req: Req<'TGetResultSetMetadataReq'>): Promise<Req<'TGetResultSetMetadataResp'>> {
    try {
      const { operation, result } = await this.finishedOperation(req.operationHandle?.operationId);
      return this.metadataOf(operation, result);
    } catch (error) {
      return new T.TGetResultSetMetadataResp({ status: errorStatus(toWarehouseError(error)) });
    }
  }

  async FetchResults(req: Req<'TFetchResultsReq'>): Promise<Req<'TFetchResultsResp'>> {
    try {
      const { operation, result } = await this.finishedOperation(req.operationHandle?.operationId);
      const fault = this.deps.faults.take('FetchResults', 'error-state', operation.sql);
      if (fault) throw databricksErrors.injected(fault.errorClass ?? 'INTERNAL_ERROR', fault.sqlState ?? 'XX000');
      if (req.fetchType === FETCH_LOGS) {
        return new T.TFetchResultsResp({ status: success(), hasMoreRows: false, results: columnBasedRowSet(result, 0, 0) });
      }
      if (req.orientation === T.TFetchOrientation.FETCH_FIRST) operation.cursor = 0;
      const start = operation.cursor;
      const maxRows = Math.max(1, req.maxRows ? req.maxRows.toNumber() : result.rowCount);
      const end = Math.min(result.rowCount, start + maxRows);
      operation.cursor = end;
      const results = operation.format === 'arrow' ? arrowRowSet(result, start, end, operation.arrowOptions) : columnBasedRowSet(result, start, end);
      return new T.TFetchResultsResp({
        status: success(),
        hasMoreRows: end < result.rowCount,
        results,
        ...(req.includeResultSetMetadata ? { resultSetMetadata: this.metadataOf(operation, result) } : {}),
      });
    } catch (error) {
      return new T.TFetchResultsResp({ status: errorStatus(toWarehouseError(error)) });
    }
  }

  async CloseOperation(req: Req<'TCloseOperationReq'>): Promise<Req<'TCloseOperationResp'>> {
    const key = keyOf(req.operationHandle?.operationId);
    const operation = this.operations.get(key);
    if (operation) {
      this.operations.delete(key);
      this.sessions.get(operation.sessionKey)?.operations.delete(key);
    }
    return new T.TCloseOperationResp({ status: success() });
  }

  /** Accepted and ignored: statements run to completion (they take milliseconds on DuckDB). */
  async CancelOperation(_req: Req<'TCancelOperationReq'>): Promise<Req<'TCancelOperationResp'>> {
    return new T.TCancelOperationResp({ status: success() });
  }

  // Metadata RPCs the loader does not use: a clear error instead of a protocol failure.
  GetInfo = unsupported('GetInfo');
  GetTypeInfo = unsupported('GetTypeInfo');
  GetCatalogs = unsupported('GetCatalogs', 'SHOW CATALOGS');
  GetSchemas = unsupported('GetSchemas', 'SHOW SCHEMAS IN <catalog>');
  GetTables = unsupported('GetTables', 'SHOW TABLES IN <catalog>.<schema>');
  GetTableTypes = unsupported('GetTableTypes');
  GetColumns = unsupported('GetColumns', 'DESCRIBE TABLE <name>');
  GetFunctions = unsupported('GetFunctions');
  GetPrimaryKeys = unsupported('GetPrimaryKeys');
  GetCrossReference = unsupported('GetCrossReference');
  GetDelegationToken = unsupported('GetDelegationToken');
  CancelDelegationToken = unsupported('CancelDelegationToken');
  RenewDelegationToken = unsupported('RenewDelegationToken');

  /** Closes every session (emulator shutdown). */
  async closeAll(): Promise<void> {
    for (const session of this.sessions.values()) await session.warehouseSession.close();
    this.sessions.clear();
    this.operations.clear();
  }

  private failOnInjectedError(rpc: FaultedRpc): void {
    const fault = this.deps.faults.take(rpc, 'error-state');
    if (fault) throw databricksErrors.injected(fault.errorClass ?? 'INTERNAL_ERROR', fault.sqlState ?? 'XX000');
  }

  private async finishedOperation(id: HandleIdentifier): Promise<{ operation: Operation; result: ResultSet }> {
    const operation = this.operations.get(keyOf(id));
    if (!operation) throw invalidHandle('Operation');
    await operation.done;
    if (operation.error) throw operation.error;
    return { operation, result: operation.result! };
  }

  private metadataOf(operation: Operation, result: ResultSet): Req<'TGetResultSetMetadataResp'> {
    const arrow = operation.format === 'arrow';
    return new T.TGetResultSetMetadataResp({
      status: success(),
      schema: thriftSchema(result),
      resultFormat: arrow ? T.TSparkRowSetType.ARROW_BASED_SET : T.TSparkRowSetType.COLUMN_BASED_SET,
      lz4Compressed: false,
      isStagingOperation: false,
      ...(arrow ? { arrowSchema: arrowSchemaBytes(result, operation.arrowOptions) } : {}),
    });
  }
}

/** Whether `promise` settles within `ms` (without keeping a timer alive afterwards). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function unsupported(rpc: string, instead?: string): (req: unknown) => Promise<{ status: Status }> {
  const hint = instead ? ` Use ${instead} instead.` : '';
  const error = databricksErrors.unsupported(`the ${rpc} RPC.${hint}`);
  return async (_req: unknown) => ({ status: errorStatus(error) });
}
