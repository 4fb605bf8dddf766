// The MI v2 answer shapes, as text in and records or typed errors out. Shapes the emulator cannot be made
// to send (terminated transactions, failed counts without a message, non-string values) are covered here.
import { describe, expect, it } from 'vitest';
import { MiError, MiHttpError, MiProtocolError } from '#shared/m3/miErrors.ts';
import { parseMiResponse } from '#shared/m3/miResponse.ts';

const call = { program: 'CRS620MI', transaction: 'LstSuppliers' };

function ok(records: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    results: [{ transaction: 'LstSuppliers', records }],
    wasTerminated: false,
    nrOfSuccessfullTransactions: 1,
    nrOfFailedTransactions: 0,
    ...extra,
  });
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parseMiResponse', () => {
  it('returns the records of a successful answer, values untouched', () => {
    const records = [
      { SUNO: 'S0001', SUNM: 'Acme  Corp', LMTS: '202601151230450123', CUAM: '1234.50', PPDT: '0' },
      { SUNO: 'S0002', SUNM: '', LMTS: '999999999999999999', CUAM: '-0.01', PPDT: '20260131' },
    ];
    expect(parseMiResponse(call, 200, ok(records))).toEqual(records);
  });

  it('treats a result without records as an empty page', () => {
    expect(parseMiResponse(call, 200, JSON.stringify({ results: [{ transaction: 'LstSuppliers' }] }))).toEqual([]);
  });

  it('reads a NOK inside a result (HTTP 200), trimming the blank-padded message', () => {
    const body = JSON.stringify({
      results: [{ transaction: 'LstSuppliers', errorMessage: 'Company 999 does not exist          ', errorCode: 'XAU0008', errorField: 'CONO', errorType: 'ServerReturnedNOK' }],
      nrOfFailedTransactions: 1,
    });
    const error = thrown(() => parseMiResponse(call, 200, body)) as MiError;
    expect(error).toBeInstanceOf(MiError);
    expect(error).toMatchObject({ name: 'MiError', program: 'CRS620MI', transaction: 'LstSuppliers', code: 'XAU0008', field: 'CONO', miMessage: 'Company 999 does not exist', errorType: 'ServerReturnedNOK' });
    expect(error.message).toContain('CRS620MI/LstSuppliers: M3 answered NOK XAU0008 on field CONO');
    expect(error.message).toContain('not authorised for this company');
  });

  it('reads a NOK at top level of an HTTP 400', () => {
    const body = JSON.stringify({ errorMessage: 'Field XXXX does not exist   ', errorCode: 'WCU0203', errorField: 'XXXX', errorType: 'ServerReturnedNOK' });
    const error = thrown(() => parseMiResponse(call, 400, body)) as MiError;
    expect(error).toMatchObject({ name: 'MiError', code: 'WCU0203', field: 'XXXX', status: 400, miMessage: 'Field XXXX does not exist' });
  });

  it('treats a page with records and an error as failed, not as a partial success', () => {
    const body = JSON.stringify({
      results: [{ transaction: 'LstSuppliers', records: [{ SUNO: 'S0001' }], errorMessage: 'Record changed by another user', errorCode: 'WPU0901' }],
      nrOfFailedTransactions: 1,
    });
    expect(thrown(() => parseMiResponse(call, 200, body))).toBeInstanceOf(MiError);
  });

  it('treats wasTerminated as an MI error with the termination reason', () => {
    const body = JSON.stringify({ results: [], wasTerminated: true, terminationReason: 'Program ended abnormally   ' });
    const error = thrown(() => parseMiResponse(call, 200, body)) as MiError;
    expect(error).toBeInstanceOf(MiError);
    expect(error.miMessage).toBe('terminated: Program ended abnormally');
  });

  it('treats nrOfFailedTransactions > 0 without a message as an MI error', () => {
    const body = JSON.stringify({ results: [{ transaction: 'LstSuppliers', records: [] }], nrOfFailedTransactions: 1 });
    expect(thrown(() => parseMiResponse(call, 200, body))).toBeInstanceOf(MiError);
  });

  it('reports a body that is not JSON or has no results as a retryable protocol error', () => {
    for (const body of ['{"results":[{"transaction":"LstSupp', '<html>gateway</html>', '{"foo":1}', '"text"']) {
      const error = thrown(() => parseMiResponse(call, 200, body)) as MiProtocolError;
      expect(error).toBeInstanceOf(MiProtocolError);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('CRS620MI/LstSuppliers');
    }
  });

  it.each([
    ['a number', 12.5],
    ['null', null],
    ['a boolean', true],
  ])('refuses a record value that is %s (M3 sends strings only), without retrying', (_label, value) => {
    const error = thrown(() => parseMiResponse(call, 200, ok([{ SUNO: 'S0001', CUAM: value }]))) as MiProtocolError;
    expect(error).toBeInstanceOf(MiProtocolError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('field CUAM');
  });

  it('reports a 400 that is not an MI error as an HTTP error', () => {
    expect(thrown(() => parseMiResponse(call, 400, '<html>Bad Request</html>'))).toBeInstanceOf(MiHttpError);
    expect(thrown(() => parseMiResponse(call, 400, '{"message":"bad"}'))).toBeInstanceOf(MiHttpError);
  });
});
