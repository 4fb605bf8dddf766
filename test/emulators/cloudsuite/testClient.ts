// A deliberately plain HTTP client for the emulator's own tests: it speaks the wire protocol with
// fetch, so the tests check what any client would see (status, headers, raw bodies).
import type { CloudSuiteEmulator, M3Row } from '../../../infra/local/emulators/cloudsuite/index.ts';

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface MiOk {
  records: M3Row[];
  body: {
    results: { transaction: string; records: M3Row[]; errorCode?: string; errorMessage?: string; errorField?: string }[];
    wasTerminated: boolean;
    nrOfSuccessfullTransactions: number;
    nrOfFailedTransactions: number;
  };
}

export interface MiNok {
  errorMessage: string;
  errorCode: string;
  errorField: string;
  errorType: string;
  errorCfg: string;
  nrOfFailedTransactions: number;
}

/** The parameters every well-behaved client sends, so records are trimmed and complete. */
export const PLAIN = { righttrim: 'true', excludeempty: 'false', dateformat: 'YMD8' } as const;

export class TestClient {
  private token: string | undefined;

  constructor(readonly emulator: CloudSuiteEmulator) {}

  get tokenUrl(): string {
    return `${this.emulator.ionapi.pu}${this.emulator.ionapi.ot}`;
  }

  get revokeUrl(): string {
    return `${this.emulator.ionapi.pu}${this.emulator.ionapi.or}`;
  }

  executeUrl(program: string, transaction: string): string {
    return `${this.emulator.ionapi.iu}/${this.emulator.ionapi.ti}/M3/m3api-rest/v2/execute/${program}/${transaction}`;
  }

  /** Client credentials as HTTP Basic. */
  basic(id = this.emulator.ionapi.ci ?? '', secret = this.emulator.ionapi.cs ?? ''): string {
    return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<RawAnswer> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** A password grant with the .ionapi credentials in the body; overrides replace form fields. */
  async passwordGrant(overrides: Record<string, string> = {}): Promise<RawAnswer> {
    const io = this.emulator.ionapi;
    return this.post(this.tokenUrl, {
      grant_type: 'password',
      username: io.saak ?? '',
      password: io.sask ?? '',
      client_id: io.ci ?? '',
      client_secret: io.cs ?? '',
      ...overrides,
    });
  }

  async refreshGrant(refreshToken: string): Promise<RawAnswer> {
    return this.post(this.tokenUrl, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: this.basic() });
  }

  async tokens(): Promise<{ access_token: string; refresh_token?: string; expires_in: number; token_type: string }> {
    const answer = await this.passwordGrant();
    if (answer.status !== 200) throw new Error(`password grant failed: ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text);
  }

  /** Drops the cached access token (after a test revoked or expired it). */
  forgetToken(): void {
    this.token = undefined;
  }

  async accessToken(): Promise<string> {
    this.token ??= (await this.tokens()).access_token;
    return this.token;
  }

  /** GET an execute URL with query parameters (and optional matrix parameters). */
  async raw(program: string, transaction: string, query: Record<string, string> = {}, options: { token?: string | null; matrix?: string } = {}): Promise<RawAnswer> {
    const token = options.token === undefined ? await this.accessToken() : options.token;
    const qs = new URLSearchParams(query).toString();
    const url = `${this.executeUrl(program, transaction)}${options.matrix ?? ''}${qs ? `?${qs}` : ''}`;
    const response = await fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** An MI call that must succeed. */
  async mi(program: string, transaction: string, query: Record<string, string> = {}): Promise<MiOk> {
    const answer = await this.raw(program, transaction, query);
    if (answer.status !== 200) throw new Error(`${program}/${transaction} answered ${answer.status}: ${answer.text}`);
    const body = JSON.parse(answer.text) as MiOk['body'];
    return { body, records: body.results[0]?.records ?? [] };
  }

  /** An MI call that must be a single-call NOK (HTTP 400). */
  async nok(program: string, transaction: string, query: Record<string, string> = {}): Promise<MiNok> {
    const answer = await this.raw(program, transaction, query);
    if (answer.status !== 400) throw new Error(`${program}/${transaction} answered ${answer.status}, expected a NOK: ${answer.text.slice(0, 300)}`);
    return JSON.parse(answer.text) as MiNok;
  }

  /** EXPORTMI/Select rows as REPL strings (trimmed records, all rows unless maxrecs is given). */
  async select(query: string, extra: Record<string, string> = {}): Promise<string[]> {
    const { records } = await this.mi('EXPORTMI', 'Select', { ...PLAIN, maxrecs: '0', QERY: query, ...extra });
    return records.map((r) => r.REPL ?? '');
  }
}
