// The request/response model of one M3 MI call (after Infor's Odin SDK): what the extractor asks for
// and what it gets back. MI semantics (v2 shape, NOK, trimming) are handled in the MI client only.

/** One MI record: field name (4 letters, or REPL for EXPORTMI) to its value, always a string. */
export type MiRecord = Record<string, string>;

export interface MiRequest {
  program: string;
  transaction: string;
  /** Query inputs, e.g. { CONO: '100', FRSU: 'S0001' }. Values are sent as given. */
  inputs?: Record<string, string>;
  /** returncols: the output fields wanted (all when omitted). */
  outputFields?: readonly string[];
  /** maxrecs: 0 means all records. */
  maxRecords?: number;
  /** Session company (cono) and division (divi). */
  company?: string;
  division?: string;
  /**
   * How the session company and division are sent: as matrix parameters (default, as Infor's own SDK does)
   * or as query parameters (for the preflight that tells which form a tenant honours).
   */
  sessionForm?: 'matrix' | 'query';
}

export interface MiResponse {
  program: string;
  transaction: string;
  records: MiRecord[];
}
