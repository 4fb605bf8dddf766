// The warehouse's HTTP endpoint: POST <httpPath> carrying one TBinaryProtocol message (buffered transport), as
// the driver sends it. Authentication, HTTP-level faults, the cold-start window and the parameter limit are
// decided here, before the Thrift processor sees the call. (thrift's createWebServer has no hook for these.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { thrift } from '@databricks/sql';
import thriftLib from 'thrift';
import { HTTP_STATUS_OF_FAULT, type FaultRegistry, type FaultedRpc } from './faults.ts';
import { MAX_PARAMETERS_PER_STATEMENT } from './parameters.ts';
import type { ThriftHandler } from './thriftHandler.ts';

const T = thrift.TCLIService_types;
const MAX_BODY_BYTES = 256 * 1024 * 1024;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly token: string;
  readonly startingPhaseMs: number;
  readonly handler: ThriftHandler;
  readonly faults: FaultRegistry;
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

interface PeekedRequest {
  readonly rpc: string;
  /** The statement (ExecuteStatement) or the statement of the operation addressed (status/fetch calls). */
  readonly sql?: string;
  readonly parameterCount?: number;
}

/** The answer to a statement that ran is dropped: the connection closes without a response. */
class LostAnswer extends Error {}

class HttpRejection extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const processor = new thrift.TCLIService.Processor(options.handler);
  const startedAt = Date.now();

  const server = http.createServer((request, response) => {
    handle(request)
      .then((body) => {
        response.writeHead(200, { 'Content-Type': 'application/x-thrift', 'Content-Length': body.length });
        response.end(body);
      })
      .catch((error: unknown) => {
        if (error instanceof LostAnswer) {
          request.socket.destroy();
          return;
        }
        const rejection =
          error instanceof HttpRejection ? error : new HttpRejection(500, 'INTERNAL_ERROR', error instanceof Error ? error.message : String(error));
        const body = JSON.stringify({ error_code: rejection.errorCode, message: rejection.message });
        response.writeHead(rejection.statusCode, { 'Content-Type': 'application/json', ...rejection.headers });
        response.end(body);
      });
  });

  async function handle(request: http.IncomingMessage): Promise<Buffer> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'POST' || url.pathname.replace(/\/$/, '') !== options.path.replace(/\/$/, '')) {
      throw new HttpRejection(404, 'ENDPOINT_NOT_FOUND', `No SQL warehouse at ${request.method} ${url.pathname}`);
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      throw new HttpRejection(401, 'UNAUTHENTICATED', 'Invalid access token.', { 'WWW-Authenticate': 'Bearer' });
    }
    const body = await readBody(request);
    const peeked = peekRequest(body, options.handler);
    rejectAtHttpLevel(peeked);
    const lost = peeked.rpc === 'ExecuteStatement' ? options.faults.take('ExecuteStatement', 'lost-answer', peeked.sql) : undefined;
    const reply = await processThrift(processor, body);
    if (lost) {
      // Let the statement finish (and commit) first: the client must not learn whether it ran.
      const guid = operationGuidOfReply(reply);
      if (guid) await options.handler.operationDone(guid);
      throw new LostAnswer();
    }
    return reply;
  }

  function rejectAtHttpLevel({ rpc, sql, parameterCount }: PeekedRequest): void {
    const fault = options.faults.take(rpc as FaultedRpc, 'http', sql);
    if (fault && fault.kind in HTTP_STATUS_OF_FAULT) {
      const status = HTTP_STATUS_OF_FAULT[fault.kind as keyof typeof HTTP_STATUS_OF_FAULT];
      throw new HttpRejection(status, status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : 'TEMPORARILY_UNAVAILABLE', `Injected HTTP ${status} for ${rpc}.`, {
        'Retry-After': '1',
      });
    }
    if (rpc === 'ExecuteStatement' && Date.now() - startedAt < options.startingPhaseMs) {
      throw new HttpRejection(503, 'TEMPORARILY_UNAVAILABLE', 'The SQL warehouse is starting. Retry the request shortly.', { 'Retry-After': '1' });
    }
    if (rpc === 'ExecuteStatement' && (parameterCount ?? 0) > MAX_PARAMETERS_PER_STATEMENT) {
      throw new HttpRejection(
        400,
        'INVALID_PARAMETER_VALUE',
        `The statement has ${parameterCount} parameters; at most ${MAX_PARAMETERS_PER_STATEMENT} are allowed.`,
      );
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpRejection(413, 'REQUEST_TOO_LARGE', `Request body over ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads the RPC name and, where HTTP-level decisions need it, the request struct. */
function peekRequest(body: Buffer, handler: ThriftHandler): PeekedRequest {
  let peeked: PeekedRequest | undefined;
  thriftLib.TBufferedTransport.receiver((transport) => {
    const protocol = new thriftLib.TBinaryProtocol(transport);
    const { fname } = protocol.readMessageBegin();
    const requestClass = { ExecuteStatement: T.TExecuteStatementReq, FetchResults: T.TFetchResultsReq, GetOperationStatus: T.TGetOperationStatusReq }[
      fname as 'ExecuteStatement'
    ];
    if (!requestClass) {
      peeked = { rpc: fname };
      return;
    }
    protocol.readStructBegin();
    const field = protocol.readFieldBegin();
    if (field.fid !== 1 || field.ftype !== thriftLib.Thrift.Type.STRUCT) {
      peeked = { rpc: fname };
      return;
    }
    const request = new requestClass() as { read(p: unknown): void } & Partial<InstanceType<typeof T.TExecuteStatementReq>> &
      Partial<InstanceType<typeof T.TFetchResultsReq>>;
    request.read(protocol);
    if (fname === 'ExecuteStatement') {
      peeked = { rpc: fname, sql: request.statement ?? '', parameterCount: request.parameters?.length ?? 0 };
    } else {
      const guid = request.operationHandle?.operationId?.guid;
      const sql = guid ? handler.sqlOfOperation(Buffer.from(guid).toString('hex')) : undefined;
      peeked = { rpc: fname, ...(sql === undefined ? {} : { sql }) };
    }
  }, 0)(body);
  if (!peeked) throw new HttpRejection(400, 'MALFORMED_REQUEST', 'The request body is not a complete Thrift message.');
  return peeked;
}

/** The operation handle (hex guid) in a serialized ExecuteStatement reply, if it carries one. */
function operationGuidOfReply(reply: Buffer): string | undefined {
  let guid: string | undefined;
  thriftLib.TBufferedTransport.receiver((transport) => {
    const protocol = new thriftLib.TBinaryProtocol(transport);
    protocol.readMessageBegin();
    protocol.readStructBegin();
    const field = protocol.readFieldBegin();
    if (field.fid !== 0 || field.ftype !== thriftLib.Thrift.Type.STRUCT) return;
    const response = new T.TExecuteStatementResp() as InstanceType<typeof T.TExecuteStatementResp> & { read(p: unknown): void };
    response.read(protocol);
    const id = response.operationHandle?.operationId?.guid;
    if (id) guid = Buffer.from(id).toString('hex');
  }, 0)(reply);
  return guid;
}

/** Runs one message through the generated TCLIService processor and returns the serialized reply. */
function processThrift(processor: InstanceType<typeof thrift.TCLIService.Processor>, body: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    thriftLib.TBufferedTransport.receiver((transport) => {
      const input = new thriftLib.TBinaryProtocol(transport);
      const output = new thriftLib.TBinaryProtocol(new thriftLib.TBufferedTransport(undefined, (reply) => resolve(reply ?? Buffer.alloc(0))));
      try {
        processor.process(input as never, output as never);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }, 0)(body);
  });
}
