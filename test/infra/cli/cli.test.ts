// The CLI as a user runs it: real process, real emulator over HTTP, results on stdout, errors as one line.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { runCli } from '../../support/runCli.ts';

/** Tests that run several CLI processes or a bulk round trip: a guard against hanging, not a speed limit (a busy machine). */
const SEVERAL_PROCESSES = 180_000;

let emulator: CloudSuiteEmulator;
let dir: string;
let ionapi: string;

beforeAll(async () => {
  emulator = await startCloudSuiteEmulator({ seed: 21 });
  dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  ionapi = path.join(dir, 'tenant.ionapi');
  await emulator.writeIonApiFile(ionapi);
});
afterAll(() => emulator.close());

describe('extract', () => {
  it('stages a snapshot entity and ends stdout with a JSON summary', async () => {
    const out = path.join(dir, 'suppliers');
    const res = await runCli(['extract', '--ionapi', ionapi, '--entity', 'suppliers', '--company', '100', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const summary = res.summary();
    expect(summary).toMatchObject({ entity: 'suppliers', company: '100', records: emulator.truth('CIDMAS', '100').length });
    expect(summary.files).toEqual(['part-00001.jsonl.gz']);
    expect(res.stderr).toMatch(/snapshot entity: it is always read in full/);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'part-00001.jsonl.gz']);
  });

  it('extracts every division of a division-scoped entity into its own folder', async () => {
    const out = path.join(dir, 'accounts');
    const res = await runCli(['extract', '--ionapi', ionapi, '--entity', 'gl_accounts', '--company', '200', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const summary = res.summary() as { divisions: string[]; files: string[]; records: number };
    expect(summary.divisions.length).toBeGreaterThanOrEqual(3);
    expect(summary.files.every((f) => /^[^/]+\/part-\d{5}\.jsonl\.gz$/.test(f))).toBe(true);
    expect(summary.records).toBe(emulator.truth('FCHACC', '200').filter((r) => r.AITP === '1').length);
  });

  it('reads an incremental entity since a day, and refuses to guess without --since or --full', async () => {
    const res = await runCli(['extract', '--ionapi', ionapi, '--entity', 'purchase_orders', '--company', '100', '--since', '2026-11-01', '--out', path.join(dir, 'po')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.summary().records).toBe(emulator.truth('MPHEAD', '100').filter((r) => r.LMDT! >= '20261101').length);

    const missing = await runCli(['extract', '--ionapi', ionapi, '--entity', 'purchase_orders', '--company', '100', '--out', path.join(dir, 'x')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: purchase_orders is incremental: give --since YYYY-MM-DD .* or --full/m);
  });

  it('explains an unknown entity, a bad date and an unauthorised company in one line', async () => {
    const unknown = await runCli(['extract', '--ionapi', ionapi, '--entity', 'invoices', '--company', '100', '--full', '--out', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/error: unknown entity "invoices"; known entities: suppliers/);
    const badDate = await runCli(['extract', '--ionapi', ionapi, '--entity', 'purchase_orders', '--company', '100', '--since', '2026-13-01', '--out', dir]);
    expect(badDate.stderr).toMatch(/--since must be a date like 2026-11-01/);
    const company = await runCli(['extract', '--ionapi', ionapi, '--entity', 'suppliers', '--company', '999', '--out', path.join(dir, 'c999')]);
    expect(company.code).toBe(1);
    expect(company.stderr).toMatch(/XAU0008/);
    expect(company.stderr).toMatch(/CONO/);
    for (const r of [unknown, badDate, company]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('.ionapi problems', () => {
  it('names the missing field and never echoes secrets', async () => {
    const broken = { ...emulator.ionapi } as Record<string, string>;
    delete broken.pu;
    const file = path.join(dir, 'broken.ionapi');
    await writeFile(file, JSON.stringify(broken));
    const res = await runCli(['check', '--ionapi', file]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL\s+\.ionapi file: .*"pu"/);
    for (const secret of [emulator.ionapi.cs, emulator.ionapi.sask]) {
      expect(res.stdout + res.stderr).not.toContain(secret);
    }
  });
});

describe('check and describe', () => {
  it('check reports each step and exits 0 against a working tenant', async () => {
    const res = await runCli(['check', '--ionapi', ionapi, '--company', '100']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/ok\s+token/);
    expect(res.stdout).toMatch(/ok\s+MI call MNS150MI\/GetUserData/);
    expect(res.stdout).toMatch(/ok\s+company 100: \d+ division/);
  });

  it('describe prints field types and a catalog entry that validates', async () => {
    const res = await runCli(['describe', '--ionapi', ionapi, '--table', 'MPHEAD']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/LNAM\s+N\s+17\s+2/);
    const entry = JSON.parse(res.stdout.slice(res.stdout.indexOf('{'))) as { source: { table: string; prefix: string }; strategy: string };
    expect(entry.source).toMatchObject({ table: 'MPHEAD', prefix: 'IA' });
    expect(entry.strategy).toBe('incremental');
    const tx = await runCli(['describe', '--ionapi', ionapi, '--transaction', 'CRS620MI/LstSuppliers']);
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stdout).toMatch(/SUNO\s+A\s+10/);
  });
});

describe('load and query', () => {
  it('loads an extract folder into a local warehouse file, reloads as a no-op, and the file answers queries', async () => {
    const out = path.join(dir, 'ledger');
    const file = path.join(dir, 'wh', 'warehouse.duckdb');
    const extracted = await runCli(['extract', '--ionapi', ionapi, '--entity', 'ap_ledger', '--company', '200', '--full', '--out', out]);
    expect(extracted.code, extracted.stderr).toBe(0);
    const records = extracted.summary().records as number;

    const first = await runCli(['load', '--staged', out, '--warehouse', `local:${file}`]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary()).toMatchObject({ entity: 'ap_ledger', company: '200', files: 1, historyInserted: records, currentInserted: records, currentUpdated: 0, currentSoftDeleted: 0 });
    expect(first.summary().statements).toBeLessThan(20);
    expect(first.stderr).toMatch(/query it: npx cloudsuite-sync query --warehouse local:/);

    const again = await runCli(['load', '--staged', out, '--warehouse', `local:${file}`]);
    expect(again.summary()).toMatchObject({ historyInserted: 0, currentInserted: 0, currentUpdated: 0 });

    const query = await runCli(['query', '--warehouse', `local:${file}`, 'SELECT count(*) AS n, CAST(sum(cuam) AS STRING) AS total FROM main.cloudsuite.ap_ledger']);
    expect(query.code, query.stderr).toBe(0);
    const row = JSON.parse(query.stdout.trim()) as { n: string; total: string };
    expect(Number(row.n)).toBe(records);
    const toCents = (amount: string) => {
      const [int, frac = ''] = amount.replace('-', '').split('.');
      return (amount.startsWith('-') ? -1n : 1n) * BigInt(`${int}${frac.padEnd(2, '0')}`);
    };
    const cents = emulator.truth('FPLEDG', '200').reduce((sum, r) => sum + toCents(r.CUAM!), 0n);
    expect(toCents(row.total)).toBe(cents);
  }, SEVERAL_PROCESSES);

  it('says which file is locked when another process holds the warehouse file', async () => {
    const { startWarehouseEmulator } = await import('#emulators/databricks/index.ts');
    const file = path.join(dir, 'locked', 'warehouse.duckdb');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.dirname(file), { recursive: true });
    const holder = await startWarehouseEmulator({ dbFile: file });
    try {
      const res = await runCli(['query', '--warehouse', `local:${file}`, 'SELECT 1']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/is in use by another process/);
    } finally {
      await holder.close();
    }
  });
});

describe('check against a warehouse', () => {
  it('proves connectivity and the privileges a load needs, and reports missing credentials', async () => {
    const ok = await runCli(['check', '--warehouse', `local:${path.join(dir, 'check', 'warehouse.duckdb')}`, '--catalog', 'main', '--schema', 'finance']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok\s+CREATE TABLE, MODIFY, SELECT: granted/);
    const noCredentials = await runCli(['check', '--databricks-host', 'adb-1.azuredatabricks.net', '--databricks-path', '/sql/1.0/warehouses/x'], {
      env: { DATABRICKS_TOKEN: '', DATABRICKS_CLIENT_ID: '', DATABRICKS_CLIENT_SECRET: '' },
    });
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stdout).toMatch(/FAIL\s+warehouse connection: set DATABRICKS_TOKEN/);
    const badSchema = await runCli(['check', '--warehouse', 'local', '--schema', 'fin`ance']);
    expect(badSchema.code).toBe(1);
    expect(badSchema.stderr).toMatch(/schema "fin`ance" is not a valid Databricks identifier/);
  });
});

describe('check --round-trip', () => {
  it('loads tricky invoices through the real loader, reads them back exactly, reloads as a no-op and drops the probe tables', async () => {
    const file = path.join(dir, 'round-trip', 'warehouse.duckdb');
    const run = await runCli(['check', '--warehouse', `local:${file}`, '--schema', 'finance', '--round-trip']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/ok\s+load round trip: 5 invoices .* read back exactly in merge mode; a second load changed nothing .*; a bulk of 1500 invoices \([\d.]+ MiB sent in \d+ statements\) loaded in [\d.]+ s with an exact total/);
    // Every statement with its time; the bulk's largest batch is a full one (~0.9 MiB of bound JSON).
    expect(run.stdout).toMatch(/statements of the round trip/);
    const batches = [...run.stdout.matchAll(/^\s+\d+ ms\s+(\d+) KiB\s+INSERT INTO/gm)].map((m) => Number(m[1]));
    expect(Math.max(...batches)).toBeGreaterThan(800);
    const tables = await runCli(['query', '--warehouse', `local:${file}`, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%probe%'"]);
    expect(tables.code, tables.stderr).toBe(0);
    expect(tables.stdout).not.toMatch(/probe/);
    const totals = await runCli(['query', '--warehouse', `local:${file}`, "SELECT count(*) AS n FROM main.finance._sync_control_totals WHERE table_name LIKE '%probe%'"]);
    expect(totals.stdout.trim()).toBe('{"n":"0"}');
    const noWarehouse = await runCli(['check', '--ionapi', ionapi, '--round-trip']);
    expect(noWarehouse.code).toBe(1);
    expect(noWarehouse.stderr).toMatch(/--round-trip loads into a warehouse: give --databricks-host\/--databricks-path or --warehouse local/);
  }, SEVERAL_PROCESSES);

  it('proves copy mode end to end: COPY INTO of a multi-MiB part file from (local) S3, with the same exact read-back', async () => {
    const file = path.join(dir, 'round-trip-copy', 'warehouse.duckdb');
    const run = await runCli(['check', '--warehouse', `local:${file}`, '--schema', 'finance', '--round-trip', '--load-mode', 'copy']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/read back exactly in copy mode; .*a bulk of 40000 invoices \(one COPY INTO, \d+ statements\) loaded in [\d.]+ s with an exact total/);
    expect(run.stdout).toMatch(/^\s+\d+ ms\s+COPY INTO/m);
    expect(run.stdout).not.toMatch(/^\s+\d+ ms\s+\d+ KiB\s+INSERT INTO/m);
    const realWithoutStaging = await runCli(['check', '--databricks-host', 'adb-1.azuredatabricks.net', '--databricks-path', '/sql/1.0/warehouses/x', '--round-trip', '--load-mode', 'copy']);
    expect(realWithoutStaging.code).toBe(1);
    expect(realWithoutStaging.stderr).toMatch(/--load-mode copy with a real warehouse needs --staging-url/);
  }, SEVERAL_PROCESSES);

  it('names the first value a warehouse bent', async () => {
    const { warehouseWithSession } = await import('../../support/warehouse.ts');
    const { warehouseRoundTrip } = await import('../../../infra/cli/warehouseRoundTrip.ts');
    const wh = await warehouseWithSession();
    try {
      // A warehouse (or a driver) that reads amounts through a binary float.
      const floaty = {
        stats: wh.session.stats,
        close: async () => undefined,
        execute: async (...args: Parameters<typeof wh.session.execute>) =>
          (await wh.session.execute(...args)).map((row) => ('cuam' in row && row.cuam !== null ? { ...row, cuam: String(Number(row.cuam)) } : row)),
      };
      await expect(warehouseRoundTrip(floaty, 'main', 'finance')).rejects.toThrow(/invoice 2: cuam came back as "-99999999999999\.98", sent "-99999999999999\.99"/);
      expect(await wh.warehouse.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%probe%'")).toEqual([]);
    } finally {
      await wh.close();
    }
  });
});

describe('emulate databricks', () => {
  it('starts the warehouse emulator standalone and prints where to connect', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [path.resolve('bin/cloudsuite-sync.js'), 'emulate', 'databricks', '--db', path.join(dir, 'standalone.duckdb')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/Ctrl-C/.test(out)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const port = Number(/port:\s+(\d+)/.exec(out)![1]);
      const { connectToEmulator } = await import('#emulators/databricks/index.ts');
      const { client } = await connectToEmulator({ host: '127.0.0.1', port, path: '/sql/1.0/warehouses/emulator', token: 'dapi-local-emulator' });
      const session = await client.openSession();
      const op = await session.executeStatement('SELECT 40 + 2 AS answer');
      expect(await op.fetchAll()).toEqual([{ answer: 42 }]);
      await session.close();
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
