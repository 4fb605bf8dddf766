// HTTP routing of the emulated ION API gateway: the authorization server's token and revoke
// endpoints, and MI calls behind bearer-token checks, the rate limit, injected faults and latency.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultPlan } from './faults.ts';
import { executeMi, renderMi, renderPartialNok } from './miRest.ts';
import type { OAuthAnswer, OAuthServer } from './oauth.ts';
import type { MiEnvironment } from './programs/program.ts';
import { retryAfterHeader, type TokenBucket } from './rateLimit.ts';
import type { Counters, Knobs, MiCallInfo, RetryAfterStyle } from './types.ts';

export interface GatewayContext {
  readonly tenant: string;
  readonly oauth: OAuthServer;
  readonly faults: FaultPlan;
  readonly bucket: TokenBucket;
  readonly counters: Counters;
  knobs(): Knobs;
  environment(): MiEnvironment;
  hook(): ((call: MiCallInfo) => void | Promise<void>) | undefined;
}

const MAX_BODY_BYTES = 1 << 20;
const JSON_TYPE = 'application/json; charset=utf-8';

/** Gateways answer errors with HTML pages; clients must not parse them. */
function html(status: number, title: string, text: string): string {
  return `<!DOCTYPE html><html><head><title>${status} ${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendHtml(res: ServerResponse, status: number, title: string, text: string, headers: Record<string, string> = {}): void {
  send(res, status, { 'content-type': 'text/html; charset=utf-8', ...headers }, html(status, title, text));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendOAuth(res: ServerResponse, answer: OAuthAnswer): void {
  send(res, answer.status, answer.headers, answer.body);
}

function tooManyRequests(res: ServerResponse, style: RetryAfterStyle, seconds: number): void {
  const retryAfter = retryAfterHeader(style, seconds);
  send(res, 429, { 'content-type': JSON_TYPE, ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) }, JSON.stringify({ error: 'Too Many Requests' }));
}

export function createGatewayServer(context: GatewayContext): Server {
  const server = createServer((req, res) => {
    route(context, req, res).catch((error: unknown) => {
      process.stderr.write(`cloudsuite emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      if (!res.headersSent && !res.destroyed) sendHtml(res, 500, 'Internal Server Error', 'The emulator failed; see its stderr.');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

async function route(context: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const segments = url.pathname.split('/').slice(1);
  if (segments[0] !== context.tenant) return sendHtml(res, 404, 'Not Found', 'No API is published at this path.');
  const rest = segments.slice(1);

  if (rest[0] === 'as' && rest.length === 2) {
    const endpoint = rest[1];
    if (endpoint !== 'token.oauth2' && endpoint !== 'revoke_token.oauth2' && endpoint !== 'authorization.oauth2') {
      return sendHtml(res, 404, 'Not Found', 'No such endpoint.');
    }
    if (endpoint === 'authorization.oauth2') {
      // Backend-service apps never use the authorization-code flow.
      return sendOAuth(res, { status: 400, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ error: 'unauthorized_client', error_description: 'This client may only use the password and refresh_token grants' }) });
    }
    if (req.method !== 'POST') return sendHtml(res, 405, 'Method Not Allowed', 'Use POST.', { allow: 'POST' });
    const body = await readBody(req);
    const request = { contentType: req.headers['content-type'], authorization: req.headers.authorization, body };
    if (endpoint === 'token.oauth2') {
      if (context.faults.forTokenEndpoint()) {
        context.counters.faultsInjected++;
        return sendHtml(res, 500, 'Internal Server Error', 'The authorization server failed.');
      }
      return sendOAuth(res, context.oauth.token(request));
    }
    return sendOAuth(res, context.oauth.revoke(request));
  }

  if (rest.length === 6 && rest[0] === 'M3' && rest[1] === 'm3api-rest' && rest[2] === 'v2' && rest[3] === 'execute') {
    if (req.method !== 'GET') return sendHtml(res, 405, 'Method Not Allowed', 'MI transactions are called with GET.', { allow: 'GET' });
    let call: { program: string; transaction: string; matrix: [string, string][] };
    try {
      call = parseExecutePath(rest[4] as string, rest[5] as string);
    } catch {
      return sendHtml(res, 404, 'Not Found', 'The path is not validly encoded.');
    }
    return handleMiCall(context, req, res, { ...call, query: url.searchParams });
  }

  return sendHtml(res, 404, 'Not Found', 'No API is published at this path.');
}

/** Whether a call's maxrecs (100 when absent, 0 = all) asks for more than `rows` rows. */
function asksMoreThan(maxrecs: string | undefined, rows: number): boolean {
  const asked = maxrecs === undefined || maxrecs === '' ? 100 : Number(maxrecs);
  return asked === 0 || !Number.isFinite(asked) || asked > rows;
}

/** Program and transaction segments; matrix parameters ride on the transaction (";maxrecs=10"). Throws URIError on bad encoding. */
function parseExecutePath(programSegment: string, transactionSegment: string): { program: string; transaction: string; matrix: [string, string][] } {
  const [transaction = '', ...matrixSegments] = transactionSegment.split(';');
  const matrix = matrixSegments
    .filter((s) => s !== '')
    .map((s): [string, string] => {
      const eq = s.indexOf('=');
      return eq < 0 ? [decodeURIComponent(s), ''] : [decodeURIComponent(s.slice(0, eq)), decodeURIComponent(s.slice(eq + 1))];
    });
  return { program: decodeURIComponent(programSegment), transaction: decodeURIComponent(transaction), matrix };
}

async function handleMiCall(
  context: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: { program: string; transaction: string; matrix: [string, string][]; query: URLSearchParams },
): Promise<void> {
  const { counters } = context;
  const unauthorized = () => {
    counters.unauthorized++;
    sendHtml(res, 401, 'Unauthorized', 'The access token is missing, invalid or expired.', { 'www-authenticate': 'Bearer realm="ION API", error="invalid_token"' });
  };
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!bearer || !context.oauth.tokens.isValidAccessToken(bearer[1] as string)) return unauthorized();

  const knobs = context.knobs();
  if (knobs.rateLimit) {
    const taken = context.bucket.take(knobs.rateLimit);
    if (!taken.ok) {
      counters.rateLimited++;
      return tooManyRequests(res, knobs.rateLimit.retryAfter, taken.retryAfterSeconds);
    }
  } else {
    context.bucket.reset();
  }

  // From here the call reached M3.
  const callIndex = counters.miCalls++;
  const name = `${request.program}/${request.transaction}`;
  counters.callsByTransaction[name] = (counters.callsByTransaction[name] ?? 0) + 1;
  const maxrecs = request.query.get('maxrecs') ?? request.matrix.find(([n]) => n === 'maxrecs')?.[1];
  await context.hook()?.({
    program: request.program, transaction: request.transaction, callIndex, atMs: Date.now(), query: Object.fromEntries(request.query),
    ...(maxrecs === undefined ? {} : { maxrecs }),
  });
  if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
  // A big EXPORTMI page on a table without a supporting index: slow, and past the gateway's timeout a 504.
  const slow = knobs.slowExport;
  if (slow && request.program === 'EXPORTMI' && request.transaction === 'Select' && asksMoreThan(maxrecs, slow.aboveRows)) {
    await delay(slow.delayMs);
    if (slow.answer === 504) return sendHtml(res, 504, 'Gateway Timeout', 'The backend did not answer in time.');
  }

  const fault = context.faults.forMiCall(request.program, request.transaction);
  if (fault) counters.faultsInjected++;
  switch (fault?.kind) {
    case 'http500':
      return sendHtml(res, 500, 'Internal Server Error', 'The backend failed.');
    case 'http502':
      return sendHtml(res, 502, 'Bad Gateway', 'The backend answered with an invalid response.');
    case 'http503':
      return sendHtml(res, 503, 'Service Unavailable', 'The backend is not available.');
    case 'http504':
      return sendHtml(res, 504, 'Gateway Timeout', 'The backend did not answer in time.');
    case 'http429':
      return tooManyRequests(res, fault.retryAfter, 1);
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'revoke-token':
      context.oauth.tokens.revokeAll();
      return unauthorized();
    default:
      break;
  }

  const outcome = executeMi(request, context.environment());
  if (fault?.kind === 'partial-nok' && outcome.kind === 'ok') {
    const answer = renderPartialNok(outcome);
    return send(res, answer.status, { 'content-type': JSON_TYPE }, answer.body);
  }
  const answer = renderMi(outcome);
  if (fault?.kind === 'malformed') {
    // A body cut in transit: the status and headers look fine, the JSON does not parse.
    return send(res, 200, { 'content-type': JSON_TYPE }, answer.body.slice(0, Math.max(1, Math.floor(answer.body.length / 2))));
  }
  send(res, answer.status, { 'content-type': JSON_TYPE }, answer.body);
}
