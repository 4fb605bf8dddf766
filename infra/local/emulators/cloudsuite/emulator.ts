// Wires the emulator together: seeded data, clock, OAuth, faults, rate limit and the HTTP server,
// behind the CloudSuiteEmulator handle tests and local runs use.
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { ChangeEngine } from './changes.ts';
import { EmulatorClock } from './clock.ts';
import { Dataset } from './dataset.ts';
import { FaultPlan } from './faults.ts';
import { credentialsFor, ionApiFile, type Credentials } from './ionapi.ts';
import { OAuthServer, TokenStore } from './oauth.ts';
import { PROGRAMS } from './programs/index.ts';
import { TokenBucket } from './rateLimit.ts';
import { createGatewayServer } from './server.ts';
import { materialize } from './store.ts';
import { tableDef, tableInfo } from './tables.ts';
import { tenantRow, tenantTables } from './tenantTables.ts';
import {
  DEFAULT_KNOBS,
  DEFAULT_START_DATE,
  DEFAULT_TENANT,
  DEFAULT_VOLUME,
  type ChangeSummary,
  type CloudSuiteEmulator,
  type CloudSuiteEmulatorOptions,
  type Counters,
  type FaultRule,
  type Knobs,
  type M3Row,
  type MiCallInfo,
  type MutationPlan,
  type TableInfo,
  type Volume,
} from './types.ts';
import { isValidDate } from './values.ts';

function zeroCounters(): Counters {
  return { passwordGrants: 0, refreshGrants: 0, revokes: 0, clientCredentialsGrants: 0, miCalls: 0, callsByTransaction: {}, rateLimited: 0, unauthorized: 0, faultsInjected: 0 };
}

function resolveVolume(partial: Partial<Volume> | undefined): Volume {
  const volume: Volume = { ...DEFAULT_VOLUME, companies: [...DEFAULT_VOLUME.companies], ...partial };
  for (const [name, value] of Object.entries(volume)) {
    if (name === 'companies') continue;
    if (!Number.isInteger(value) || (value as number) < 0) throw new RangeError(`volume.${name} must be a non-negative integer, got ${String(value)}`);
  }
  if (volume.companies.length === 0) throw new RangeError('volume.companies must name at least one company');
  const seen = new Set<string>();
  for (const cono of volume.companies) {
    if (!/^[1-9]\d{0,2}$/.test(cono) || seen.has(cono)) throw new RangeError(`volume.companies: "${cono}" is not a distinct company number 1-999`);
    seen.add(cono);
  }
  return volume;
}

class Emulator implements CloudSuiteEmulator {
  readonly url: string;
  knobs: Knobs;
  onBeforeMiCall?: (call: MiCallInfo) => void | Promise<void>;
  readonly clock: { today(): string; advanceDays(days: number): ChangeSummary };

  constructor(
    readonly tenant: string,
    url: string,
    private readonly credentials: Credentials,
    knobs: Knobs,
    private readonly liveCounters: Counters,
    private readonly data: Dataset,
    private readonly tokens: TokenStore,
    private readonly faults: FaultPlan,
    private readonly engine: ChangeEngine,
    private readonly calendar: EmulatorClock,
    private readonly server: Server,
  ) {
    this.url = url;
    this.knobs = knobs;
    this.clock = { today: () => this.calendar.today(), advanceDays: (days) => this.calendar.advanceDays(days) };
  }

  get ionapi(): Record<string, string> {
    return ionApiFile(this.url, this.tenant, this.credentials, this.knobs.backendApp);
  }

  get counters(): Counters {
    return this.liveCounters;
  }

  async writeIonApiFile(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(this.ionapi, null, 2)}\n`, { mode: 0o600 });
  }

  injectFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetCounters(): void {
    // In place, so references callers hold stay live.
    Object.assign(this.liveCounters, zeroCounters(), { callsByTransaction: this.liveCounters.callsByTransaction });
    for (const key of Object.keys(this.liveCounters.callsByTransaction)) delete this.liveCounters.callsByTransaction[key];
  }

  revokeAllTokens(): void {
    this.tokens.revokeAll();
  }

  expireAccessTokens(): void {
    this.tokens.expireAccessTokens();
  }

  mutate(plan: MutationPlan): ChangeSummary {
    return this.engine.mutate(plan, this.calendar.today());
  }

  truth(table: string, company?: string): M3Row[] {
    const def = tableDef(table);
    // As this tenant's table has it (tableFields knob): its columns only, alpha values cut to its lengths.
    const tenantDef = tenantTables(this.knobs).table(def.name) ?? def;
    const store = this.data.db.table(def.name);
    let companies = this.data.companies.map((c) => c.cono);
    if (company !== undefined) {
      if (!companies.includes(company)) throw new Error(`truth: company ${company} is not emulated (companies: ${companies.join(', ')})`);
      companies = [company];
    }
    return companies.flatMap((cono) =>
      store.partition(cono).rows().map((row) => (tenantDef === def ? materialize(def, row) : tenantRow(tenantDef, row))),
    );
  }

  tableInfo(table: string): TableInfo {
    const def = tableDef(table);
    return tableInfo(tenantTables(this.knobs).table(def.name) ?? def);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

export async function startCloudSuiteEmulator(options: CloudSuiteEmulatorOptions = {}): Promise<CloudSuiteEmulator> {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const tenant = options.tenant ?? DEFAULT_TENANT;
  if (!/^[A-Za-z0-9_]+$/.test(tenant)) throw new RangeError(`tenant must be letters, digits and _, got "${tenant}"`);
  const startDate = options.startDate ?? DEFAULT_START_DATE;
  if (!isValidDate(startDate)) throw new RangeError(`startDate must be a valid YYYYMMDD date, got "${startDate}"`);
  const volume = resolveVolume(options.volume);
  const knobs: Knobs = { ...DEFAULT_KNOBS, ...options.knobs };

  const data = new Dataset({ seed, volume, startDate });
  const engine = new ChangeEngine(data, () => handle().knobs);
  const calendar = new EmulatorClock(startDate, engine);
  const credentials = credentialsFor(seed, tenant);
  const tokens = new TokenStore();
  const faults = new FaultPlan();
  const bucket = new TokenBucket();

  const counters = zeroCounters();
  // The server reads the handle's mutable knobs and hook; the handle needs the server's port first.
  let emulator: Emulator | undefined;
  const handle = (): Emulator => {
    if (!emulator) throw new Error('the CloudSuite emulator is not started yet');
    return emulator;
  };
  const oauth = new OAuthServer(credentials, tokens, () => handle().knobs, counters);
  const server = createGatewayServer({
    tenant,
    oauth,
    faults,
    bucket,
    counters,
    knobs: () => handle().knobs,
    environment: () => ({ data, knobs: handle().knobs, programs: PROGRAMS }),
    hook: () => handle().onBeforeMiCall,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  emulator = new Emulator(tenant, url, credentials, knobs, counters, data, tokens, faults, engine, calendar, server);
  data.chnoStep = () => handle().knobs.chnoStep;
  return emulator;
}
