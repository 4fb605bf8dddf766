// Hostile answers at extraction: records with blank key fields and MI answers whose bytes are not UTF-8, from
// the CloudSuite emulator through a proxy that damages them (what odd M3 data or a re-encoding proxy does).
// Each fails the unit naming entity, company, call and field, and stages nothing: the unit is complete only
// once its manifest exists, and no manifest (nor part file) is written.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCloudSuiteEmulator, type CloudSuiteEmulator } from '#emulators/cloudsuite/index.ts';
import { connectCloudSuite } from '#shared/cloudsuite/cloudSuiteConnection.ts';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import type { EntityDefinition } from '#shared/catalog/entityDefinition.ts';
import { BlankKeyError, DuplicateKeyError } from '#shared/staging/stagingErrors.ts';
import { extractUnit, sourceCallOf } from '#shared/extract/extractUnit.ts';
import { UnitStager } from '#shared/staging/unitStager.ts';
import { parseIonApiFile } from '#shared/ionapi/ionApiFile.ts';
import { MiProtocolError } from '#shared/m3/miErrors.ts';
import type { MiRecord } from '#shared/m3/miTypes.ts';
import { LocalFolderBlobStore } from '#shared/staging/localFolderBlobStore.ts';
import { capturingLog } from '../support/cloudSuite.ts';
import { runCli, type CliResult } from '../support/runCli.ts';
import { expectCliError, filesUnder, LATIN1_MALMO, spliceBytes, startMiProxy, USER_ENV, withRecords, type MiProxy, type MiRewrite } from './support/hostile.ts';

const catalog = EntityCatalog.withDefaults();
const suppliers = catalog.get('suppliers');

function blankRecord(entity: EntityDefinition, values: MiRecord): MiRecord {
  return { ...Object.fromEntries(entity.fields.map((f) => [f.name, f.type === 'A' ? '' : '0'])), ...values };
}

async function stagerFor(entity: EntityDefinition) {
  const root = await mkdtemp(path.join(tmpdir(), 'hostile-stager-'));
  const stager = new UnitStager(
    { tenant: 'ACME_PRD', entity, company: '100', division: '', runId: 'r1', runStartedAt: '2026-11-20T02:00:00.000Z' },
    new LocalFolderBlobStore(root), 'unit', sourceCallOf(entity),
  );
  return { root, stager };
}

/**
 * Nothing staged: the store lists no object at once (an aborted part is only ever a `.partial` upload,
 * which the store never lists), and the folder is empty once the aborted upload has cleaned up.
 */
async function expectNothingStaged(root: string): Promise<void> {
  expect(await new LocalFolderBlobStore(root).list('')).toEqual([]);
  await vi.waitFor(async () => expect(await filesUnder(root)).toEqual([]), { timeout: 2_000, interval: 20 });
}

/** Adds the records as extraction does (page by page), aborting on the first error like extractUnit. */
async function stageAll(stager: UnitStager, pages: MiRecord[][]): Promise<Error | undefined> {
  try {
    for (const page of pages) await stager.add(page);
    await stager.complete({ since: null, until: null });
    return undefined;
  } catch (error) {
    stager.abort(error as Error);
    return error as Error;
  }
}

describe('records with a blank key field', () => {
  it.each([
    ['a blank supplier number (SUNO)', 'suppliers', { CONO: '100', SUNO: '' }, 'SUNO', 'CRS620MI/LstSuppliers', '["100",""]'],
    ['a purchase order number of blanks (PUNO)', 'purchase_orders', { CONO: '100', PUNO: '   ' }, 'PUNO', 'EXPORTMI/Select on MPHEAD', '["100","   "]'],
    ['an empty numeric key (INBN)', 'supplier_invoices', { CONO: '100', DIVI: 'A01', INBN: '' }, 'INBN', 'EXPORTMI/Select on FAPIBH', '["100","A01",""]'],
    ['a blank GL account (AITM)', 'gl_accounts', { CONO: '100', DIVI: 'A01', AITP: '1', AITM: '' }, 'AITM', 'CRS630MI/LstAccountID', '["100","A01","1",""]'],
  ])('%s fails the unit with a BlankKeyError naming entity, call and field; nothing is staged', async (_name, id, values, field, call, key) => {
    const entity = catalog.get(id);
    const { root, stager } = await stagerFor(entity);
    const good = blankRecord(entity, { ...values, [field]: 'GOOD1' });
    const error = await stageAll(stager, [[good], [blankRecord(entity, values)]]);
    expect(error).toBeInstanceOf(BlankKeyError);
    await expectNothingStaged(root);
    expect(error!.message).toBe(
      `${id}, company 100: ${call} returned a record whose key field ${field} is blank (key ${key}); nothing was staged as complete. ` +
        "Only DIVI may be blank in a key: correct the record in M3, or the entity's key fields in the catalog, then re-run",
    );
  });

  it('a blank division (DIVI) is a valid key part: company-level invoices stage and read back', async () => {
    const entity = catalog.get('supplier_invoices');
    const { root, stager } = await stagerFor(entity);
    const error = await stageAll(stager, [[blankRecord(entity, { CONO: '100', DIVI: '', INBN: '7', LMDT: '20261101', CHNO: '1', LMTS: '202611010800000001' })]]);
    expect(error).toBeUndefined();
    expect(await filesUnder(root)).toEqual(['unit/manifest.json', 'unit/part-00001.jsonl.gz']);
  });

  it('the same key twice in one extraction is never deduplicated silently; nothing is staged', async () => {
    const { root, stager } = await stagerFor(suppliers);
    const record = blankRecord(suppliers, { CONO: '100', SUNO: 'S1' });
    const error = await stageAll(stager, [[record, { ...record, SUNM: 'other name' }]]);
    expect(error).toBeInstanceOf(DuplicateKeyError);
    expect(error!.message).toMatch(/^suppliers, company 100: key \["100","S1"\] was read twice in one extraction; nothing was staged as complete/);
    await expectNothingStaged(root);
  });
});

describe('MI answers damaged on the way', () => {
  let emulator: CloudSuiteEmulator;
  let firstSupplierName: string;
  let dir: string;
  const proxies: MiProxy[] = [];

  beforeAll(async () => {
    emulator = await startCloudSuiteEmulator({ seed: 41 });
    firstSupplierName = emulator.truth('CIDMAS', '100')[0]!.SUNM!;
    dir = await mkdtemp(path.join(tmpdir(), 'hostile-extract-'));
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await emulator.close();
  });

  async function proxy(rewrite: MiRewrite): Promise<MiProxy> {
    const started = await startMiProxy(emulator, rewrite);
    proxies.push(started);
    return started;
  }

  /** A Latin-1 "Malmö" in place of the first supplier's name on every LstSuppliers page. */
  const latin1Names: MiRewrite = (call, body) =>
    call.transaction === 'LstSuppliers'
      ? spliceBytes(withRecords(body, (records) => records.forEach((r) => r.SUNM === firstSupplierName && (r.SUNM = 'NAME-TO-REENCODE'))), 'NAME-TO-REENCODE', LATIN1_MALMO)
      : undefined;

  async function extractThrough(p: MiProxy, entity: EntityDefinition = suppliers, pageSize?: number) {
    const root = await mkdtemp(path.join(tmpdir(), 'hostile-unit-'));
    const { mi } = connectCloudSuite(parseIonApiFile(JSON.stringify(p.ionapi), 'proxied.ionapi'), { log: capturingLog() });
    const error = await extractUnit({
      tenant: 'ACME_PRD', entity: pageSize ? { ...entity, pageSize } : entity, company: '100', division: '', runId: 'r1',
      runStartedAt: new Date().toISOString(), window: { since: null, until: null }, mi, store: new LocalFolderBlobStore(root), unitPrefix: 'unit',
    }).then(() => undefined, (e: unknown) => e as Error);
    if (error) await expectNothingStaged(root);
    return { error, files: await filesUnder(root) };
  }

  it('bytes that are not UTF-8 fail the call at once (no retry: it would not help) and nothing is staged', async () => {
    const p = await proxy(latin1Names);
    const calls = emulator.counters.miCalls;
    const { error, files } = await extractThrough(p);
    expect(error).toBeInstanceOf(MiProtocolError);
    expect(error!.message).toMatch(/^CRS620MI\/LstSuppliers: unexpected response from the M3 MI API: the body is not valid UTF-8, so decoding it would silently replace characters in the records/);
    expect(error!.message).toContain('look for a proxy or gateway between here and ION that re-encodes responses');
    expect(emulator.counters.miCalls - calls).toBe(1);
    expect(files).toEqual([]);
  });

  it('a body cut inside a multi-byte character is a transport fault: retried, and the unit stages exactly M3\'s data', async () => {
    let damaged = 0;
    const p = await proxy((call, body) => {
      if (call.transaction !== 'LstSuppliers' || damaged > 0) return undefined;
      const at = body.indexOf(Buffer.from('Å'));
      if (at < 0) return undefined;
      damaged += 1;
      return body.subarray(0, at + 1); // the first byte of a two-byte character, then the connection ends
    });
    const { error, files } = await extractThrough(p);
    expect(damaged).toBe(1);
    expect(error).toBeUndefined();
    expect(files).toEqual(['unit/manifest.json', 'unit/part-00001.jsonl.gz']);
  });

  it('a blank key on a later page fails the unit after good pages were read; no manifest is written', async () => {
    let pages = 0;
    const p = await proxy((call, body) => {
      if (call.transaction !== 'LstSuppliers' || ++pages !== 3) return undefined;
      return withRecords(body, (records) => (records[records.length - 1]!.SUNO = ''));
    });
    const { error, files } = await extractThrough(p, suppliers, 10);
    expect(error).toBeInstanceOf(BlankKeyError);
    expect(error!.message).toMatch(/^suppliers, company 100: CRS620MI\/LstSuppliers returned a record whose key field SUNO is blank \(key \["100",""\]\)/);
    expect(files).toEqual([]);
  });

  describe('met through the CLI (`extract`)', () => {
    const results: Record<string, CliResult> = {};
    const out = (name: string) => path.join(dir, name);

    beforeAll(async () => {
      const blank = await proxy((call, body) => (call.transaction === 'LstSuppliers' ? withRecords(body, (records) => (records[0]!.SUNO = '')) : undefined));
      const latin1 = await proxy(latin1Names);
      const run = async (name: string, p: MiProxy) => {
        const file = path.join(dir, `${name}.ionapi`);
        const { writeFile } = await import('node:fs/promises');
        await writeFile(file, JSON.stringify(p.ionapi));
        return runCli(['extract', '--ionapi', file, '--entity', 'suppliers', '--company', '100', '--out', out(name)], { env: USER_ENV });
      };
      [results.blank, results.latin1] = await Promise.all([run('blank', blank), run('latin1', latin1)]);
    }, 60_000);

    const secrets = () => [emulator.ionapi.cs!, emulator.ionapi.sask!, emulator.ionapi.saak!];

    it('a blank supplier number: one line naming entity, company, call and field; the folder holds no manifest', async () => {
      expectCliError(results.blank!, /^error: suppliers, company 100: CRS620MI\/LstSuppliers returned a record whose key field SUNO is blank \(key \["100",""\]\); nothing was staged as complete\. Only DIVI may be blank/, secrets());
      expect(await filesUnder(out('blank'))).toEqual([]);
    });

    it('a re-encoded answer: one line naming the call and where to look; the folder holds no manifest', async () => {
      expectCliError(results.latin1!, /^error: CRS620MI\/LstSuppliers: unexpected response from the M3 MI API: the body is not valid UTF-8/, secrets());
      expect(await filesUnder(out('latin1'))).toEqual([]);
    });

    it('a listed division that is a path ("../../escaped"): refused before it names a folder; nothing is written anywhere', async () => {
      const traversal = await proxy((call, body) =>
        call.transaction === 'LstDivisions' ? withRecords(body, (records) => records.push({ ...records[0]!, DIVI: '../../escaped' })) : undefined,
      );
      const file = path.join(dir, 'traversal.ionapi');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, JSON.stringify(traversal.ionapi));
      const target = path.join(dir, 'nested', 'out');
      const res = await runCli(['extract', '--ionapi', file, '--entity', 'gl_accounts', '--company', '100', '--out', target], { env: USER_ENV });
      expectCliError(
        res,
        /^error: MNS100MI\/LstDivisions for company 100 listed the division "\.\.\/\.\.\/escaped", which is not a division code \(1-3 letters or digits\); nothing was planned or extracted for it/,
        secrets(),
      );
      // Joined to the output folder, the value would have pointed two levels up, beside `nested`.
      expect(await filesUnder(path.join(dir, 'escaped'))).toEqual([]);
      expect(await filesUnder(path.join(dir, 'nested'))).toEqual([]);
    }, 60_000);
  });
});
