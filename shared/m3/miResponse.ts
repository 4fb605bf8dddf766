// The one place that knows the shapes of an M3 MI REST v2 answer: records on success; NOK as an error
// code/message in a result, at top level (HTTP 400), as wasTerminated, or as a failed-transaction count.
// A page carrying records and an error is a failed page, never a partial success (Infor KB 2159861).
import type { MiRecord } from './miTypes.ts';
import { MiError, MiHttpError, MiProtocolError } from './miErrors.ts';

export interface MiCall {
  program: string;
  transaction: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The NOK fields of a result or of a top-level 400 body, if any is set. */
function nokOf(call: MiCall, status: number, source: Json): MiError | undefined {
  const code = text(source.errorCode);
  const field = text(source.errorField);
  const message = typeof source.errorMessage === 'string' ? source.errorMessage.trimEnd() : '';
  const errorType = text(source.errorType);
  if (code === undefined && field === undefined && message.trim() === '' && errorType === undefined) return undefined;
  return new MiError({ ...call, code, field, miMessage: message.trim() === '' ? '' : message, errorType, status });
}

function records(call: MiCall, result: Json): MiRecord[] {
  const raw = result.records;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MiProtocolError(call.program, call.transaction, '"records" is not a list', false);
  return raw.map((record, index) => {
    if (!isObject(record)) {
      throw new MiProtocolError(call.program, call.transaction, `record ${index} is not an object`, false);
    }
    for (const [name, value] of Object.entries(record)) {
      if (typeof value !== 'string') {
        // M3 sends every value as a string; anything else would silently change decimals or long numbers.
        throw new MiProtocolError(
          call.program,
          call.transaction,
          `record ${index} field ${name} is a ${value === null ? 'null' : typeof value}, not a string`,
          false,
        );
      }
    }
    return record as MiRecord;
  });
}

/**
 * Interprets one MI answer. Returns the records, or throws MiError (NOK), MiProtocolError (not MI JSON),
 * or MiHttpError (a 400 that is not an MI error). `status` is 200 or 400; other statuses never get here.
 */
export function parseMiResponse(call: MiCall, status: number, body: string): MiRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // JSON.parse's message quotes the records around the fault: only the body's length is reported.
    if (status !== 200) throw new MiHttpError(call.program, call.transaction, status);
    throw new MiProtocolError(call.program, call.transaction, `the body is not valid JSON (${body.length} characters)`, true);
  }
  if (!isObject(json)) {
    if (status !== 200) throw new MiHttpError(call.program, call.transaction, status);
    throw new MiProtocolError(call.program, call.transaction, 'the body is not a JSON object', true);
  }

  const topLevel = nokOf(call, status, json);
  if (topLevel !== undefined) throw topLevel;

  const results = json.results;
  if (json.wasTerminated === true) {
    const firstResult = Array.isArray(results) ? results.find(isObject) : undefined;
    const reason = typeof json.terminationReason === 'string' ? json.terminationReason.trimEnd() : '';
    throw new MiError({
      ...call,
      code: text(json.terminationErrorCode) ?? text(firstResult?.errorCode),
      field: text(firstResult?.errorField),
      miMessage: reason === '' ? 'the transaction was terminated' : `terminated: ${reason.trim()}`,
      errorType: 'Terminated',
      status,
    });
  }
  if (!Array.isArray(results)) {
    if (status !== 200) throw new MiHttpError(call.program, call.transaction, status);
    throw new MiProtocolError(call.program, call.transaction, 'the body has no "results" list', true);
  }

  for (const result of results) {
    if (!isObject(result)) throw new MiProtocolError(call.program, call.transaction, 'a result is not an object', true);
    const nok = nokOf(call, status, result);
    if (nok !== undefined) throw nok;
  }
  const failed = json.nrOfFailedTransactions;
  if (typeof failed === 'number' && failed > 0) {
    throw new MiError({
      ...call,
      miMessage: `${failed} transaction(s) failed without an error message`,
      status,
    });
  }
  if (status !== 200) throw new MiHttpError(call.program, call.transaction, status);
  return (results as Json[]).flatMap((result) => records(call, result));
}
