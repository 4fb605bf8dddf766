// Hostile flows configurations (infra/flows.config.ts): an operator's typo or an injection attempt is met at
// `cdk synth` (loadFlowsConfig) and by the local sync, with a message naming the flow, the field and the rule.
// Proof that nothing happened: the local sync's state folder stays empty (no DynamoDB data, so no watermark
// or run; no S3 data, so no plan or staged file; no warehouse file, so no table).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import defaultConfig from '../../infra/flows.config.ts';
import { loadFlowsConfig } from '#shared/config/loadFlowsConfig.ts';
import { runLocalSync } from '../../infra/local/runLocalSync.ts';
import { ConfigError } from '#shared/config/configError.ts';
import type { FlowsConfigInput } from '#shared/config/flowsConfig.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { filesUnder } from './support/hostile.ts';

type Flow = FlowsConfigInput['flows'][number];

function configWith(change: (config: FlowsConfigInput, flow: (id: string) => Flow) => void): FlowsConfigInput {
  const config = structuredClone(defaultConfig) as FlowsConfigInput;
  change(config, (id) => config.flows.find((f) => f.id === id)!);
  return config;
}

const IDENTIFIER_RULE = 'lower-case letters, digits and _ only (no dots, quotes, backticks or spaces), starting with a letter or _';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const cases: [string, FlowsConfigInput, RegExp][] = [
  [
    'an unknown entity',
    configWith((_, flow) => (flow('supplier-invoices').entity = 'invoices')),
    /flow "supplier-invoices": entity: unknown entity "invoices"; known entities: suppliers, gl_accounts, /,
  ],
  [
    'a cron with five fields (Unix style)',
    configWith((_, flow) => (flow('suppliers').schedule = { cron: '0 2 * * *', timeZone: 'Europe/Stockholm' })),
    /flow "suppliers" is invalid:\n {2}- schedule\.cron: has 5 fields; EventBridge cron has 6: minutes hours day-of-month month day-of-week year, e\.g\. "0 2 \* \* \? \*"/,
  ],
  [
    'a cron naming both day fields',
    configWith((_, flow) => (flow('suppliers').schedule = { cron: '0 2 1 * MON *', timeZone: 'Europe/Stockholm' })),
    /flow "suppliers" is invalid:\n {2}- schedule\.cron: exactly one of day-of-month \(3rd field\) and day-of-week \(5th field\) must be "\?"/,
  ],
  [
    'a cron with shell characters',
    configWith((_, flow) => (flow('suppliers').schedule = { cron: '0 2 * * ? $(reboot)', timeZone: 'Europe/Stockholm' })),
    /flow "suppliers" is invalid:\n {2}- schedule\.cron: contains characters EventBridge cron does not use/,
  ],
  [
    'a misspelt time zone',
    configWith((_, flow) => (flow('ap-ledger').schedule = { cron: '30 2 * * ? *', timeZone: 'Europe/Stockolm' })),
    /flow "ap-ledger" is invalid:\n {2}- schedule\.timeZone: an IANA time zone name such as Europe\/Stockholm or UTC/,
  ],
  [
    'a UTC offset instead of a zone',
    configWith((_, flow) => (flow('ap-ledger').schedule = { cron: '30 2 * * ? *', timeZone: '+01:00' })),
    /flow "ap-ledger" is invalid:\n {2}- schedule\.timeZone: an IANA time zone name/,
  ],
  [
    'a tenant time zone that is not one',
    configWith((config) => (config.tenants.ACME_PRD!.timeZone = 'Stockholm')),
    /tenants\.ACME_PRD\.timeZone: an IANA time zone name/,
  ],
  [
    'a catalog name with a quote and SQL',
    configWith((config) => (config.warehouse.catalog = "main'; DROP TABLE main.cloudsuite.suppliers; --")),
    new RegExp(`warehouse\\.catalog: ${escape(IDENTIFIER_RULE)}`),
  ],
  [
    'a schema name with a backtick',
    configWith((_, flow) => (flow('suppliers').target = { schema: 'cloud`suite' })),
    new RegExp(`flow "suppliers" is invalid:\\n {2}- target\\.schema: ${escape(IDENTIFIER_RULE)}`),
  ],
  [
    'a table name with a space',
    configWith((_, flow) => (flow('suppliers').target = { table: 'supplier master' })),
    new RegExp(`flow "suppliers" is invalid:\\n {2}- target\\.table: ${escape(IDENTIFIER_RULE)}`),
  ],
  [
    'a table name with a dot (another schema)',
    configWith((_, flow) => (flow('suppliers').target = { table: 'finance.suppliers' })),
    new RegExp(`flow "suppliers" is invalid:\\n {2}- target\\.table: ${escape(IDENTIFIER_RULE)}`),
  ],
  [
    'a table name carrying a statement',
    configWith((_, flow) => (flow('gl-transactions').target = { table: 'x`; DROP SCHEMA main.cloudsuite CASCADE; --' })),
    new RegExp(`flow "gl-transactions" is invalid:\\n {2}- target\\.table: ${escape(IDENTIFIER_RULE)}`),
  ],
  [
    'an upper-case catalog (Unity Catalog would store it lower-case: two names for one table)',
    configWith((config) => (config.warehouse.catalog = 'Main')),
    /warehouse\.catalog: lower-case letters/,
  ],
  [
    'a flow of an unknown tenant',
    configWith((_, flow) => (flow('suppliers').tenant = 'ACME_TST')),
    /flow "suppliers": tenant: unknown tenant "ACME_TST"; defined tenants: ACME_PRD/,
  ],
  [
    'an extra entity whose id would name a table with SQL in it',
    configWith((config) => (config.extraEntities = [{ id: 'items"; DROP TABLE x; --', source: { kind: 'exportmi', table: 'MITMAS', prefix: 'MM' }, key: ['CONO'], fields: [{ name: 'CONO', type: 'N', length: 3 }], strategy: 'snapshot' }])),
    /extraEntities: entity "items"; DROP TABLE x; --" is invalid:\n {2}- id: lower-case letters, digits and _ \(it names the target table\)/,
  ],
];

describe('a hostile flows configuration', () => {
  it.each(cases)('%s: `cdk synth` and the local sync refuse it, naming the field; nothing is started or written', async (_name, config, message) => {
    // `cdk synth` (infra/app.ts validates infra/flows.config.ts through loadFlowsConfig).
    const synth = (() => {
      try {
        loadFlowsConfig({ raw: config });
      } catch (error) {
        return error as Error;
      }
      return undefined;
    })();
    expect(synth).toBeInstanceOf(ConfigError);
    expect(synth!.message).toMatch(/^infra\/flows\.config\.ts/);
    expect(synth!.message).toMatch(message);

    // The local sync (the main job) with the same configuration.
    const stateDir = await mkdtemp(path.join(tmpdir(), 'hostile-flows-'));
    const log = capturingLog();
    const error = await runLocalSync({ stateDir, config, progress: () => undefined, log }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/^the flows configuration/);
    expect(error!.message).toMatch(message);
    expect(await filesUnder(stateDir)).toEqual([]);
    expect(log.lines).toEqual([]);
  });
});
