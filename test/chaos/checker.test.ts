// The convergence check must be able to fail: after one clean local sync it finds nothing, and each kind
// of damage planted in the warehouse or the watermarks afterwards is reported as what it is. The fault
// injectors must fire where they say they do.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_TABLE } from '../../infra/local/runLocalSync.ts';
import { keyOf } from '#shared/state/stateTable.ts';
import { canonicalNumber } from './convergence.ts';
import { CLEAN, ScenarioRun } from './runScenario.ts';
import { planScenario } from './scenarioPlan.ts';

const plan = { ...planScenario(4242), maxConcurrency: 10, pageSize: 50, miCallsPerExtract: undefined, days: [] };
let run: ScenarioRun;

beforeAll(async () => {
  run = new ScenarioRun(plan, {});
  await run.start(await mkdtemp(path.join(tmpdir(), 'chaos-checker-')));
  const first = await run.execute(0, CLEAN);
  expect(first.status).toBe('succeeded');
}, 120_000);
afterAll(() => run?.session.close());

// Checked as after a reconcile: an incremental key M3 deleted must be soft-deleted too.
const problems = async () => {
  const report = await run.converge({ reconciled: true });
  return { ...report, all: report.problems.join('\n') };
};

describe('the fault injectors', () => {
  it('fire on the SDK call, the Lambda invocation and the MI call they name', async () => {
    const before = run.aws.fired.length;
    const record = await run.execute(1, {
      ...CLEAN,
      kind: 'plain',
      faults: [
        { label: 's3-fatal', where: 'aws', aws: { service: 's3', command: 'PutObjectCommand', nth: 3, count: 1, mode: 'fatal' } },
        { label: 'dynamodb-lost-response', where: 'aws', aws: { service: 'dynamodb', command: 'UpdateItemCommand', nth: 5, count: 1, mode: 'lost-response' } },
        { label: 'lambda-crash-after-side-effects', where: 'task', task: { state: 'Commit', mode: 'crash-after', error: 'Lambda.Unknown', nth: 1, count: 1 } },
        { label: 'gateway-5xx', where: 'gateway', rule: { kind: 'http503', count: 1 } },
      ],
      midRun: [{ afterCalls: 2, action: 'revoke-tokens', label: 'token-revoked-mid-run' }],
    });
    expect(run.aws.fired.slice(before).sort()).toEqual(['dynamodb UpdateItemCommand lost-response', 's3 PutObjectCommand fatal']);
    expect(record.fired).toEqual(expect.arrayContaining(['gateway faults ×1', 'Commit#1 crash-after Lambda.Unknown', 'token-revoked-mid-run']));
    // The unit whose part file could not be written failed (AccessDenied is not retried); a plain run recovers.
    expect(record.status).toBe('failed');
    expect(record.unitErrors).toMatchObject({ AccessDenied: 1 });
    const again = await run.execute(1, { ...CLEAN, kind: 'plain' });
    expect(again.status).toBe('succeeded');
    expect((await problems()).all).toBe('');
  });
});

describe('the convergence check', () => {
  it('finds nothing after a clean sync, and reports planted damage as lost, duplicated or ahead', async () => {
    const clean = await problems();
    expect(clean.all).toBe('');
    expect(clean.checked.rows).toBeGreaterThan(100);
    expect(clean.checked.watermarks).toBeGreaterThan(10);
    const wh = run.warehouse;

    // An amount off by one cent: the record JSON still matches, the typed column does not.
    const [invoice] = await wh.query('SELECT _record_key AS k FROM main.cloudsuite.supplier_invoices WHERE cuam IS NOT NULL LIMIT 1');
    await wh.query(`UPDATE main.cloudsuite.supplier_invoices SET cuam = cuam + 0.01 WHERE _record_key = '${String(invoice!.k)}'`);
    // A lost row, a soft-deleted live row, a stale row.
    const [order] = await wh.query('SELECT _record_key AS k FROM main.cloudsuite.purchase_orders LIMIT 1');
    await wh.query(`DELETE FROM main.cloudsuite.purchase_orders WHERE _record_key = '${String(order!.k)}'`);
    const [supplier] = await wh.query('SELECT _record_key AS k FROM main.cloudsuite.suppliers LIMIT 1');
    await wh.query(`UPDATE main.cloudsuite.suppliers SET _deleted_at = current_timestamp() WHERE _record_key = '${String(supplier!.k)}'`);
    const [line] = await wh.query('SELECT _record_key AS k FROM main.cloudsuite.purchase_order_lines LIMIT 1');
    await wh.query(`UPDATE main.cloudsuite.purchase_order_lines SET _record = replace(_record, '"CHNO":"', '"CHNO":"9') WHERE _record_key = '${String(line!.k)}'`);
    // A version lost from history.
    const [version] = await wh.query('SELECT _record_key AS k FROM main.cloudsuite.supplier_invoice_lines_history LIMIT 1');
    await wh.query(`DELETE FROM main.cloudsuite.supplier_invoice_lines_history WHERE _record_key = '${String(version!.k)}'`);
    // A version twice in history, a key twice in current, a row CloudSuite never had.
    await wh.query('INSERT INTO main.cloudsuite.gl_transactions_history SELECT * FROM main.cloudsuite.gl_transactions_history LIMIT 1');
    await wh.query(`INSERT INTO main.cloudsuite.ap_ledger_history SELECT * REPLACE ('0' || _record_hash AS _record_hash) FROM main.cloudsuite.ap_ledger_history LIMIT 1`);
    await wh.query('INSERT INTO main.cloudsuite.ap_ledger SELECT * FROM main.cloudsuite.ap_ledger LIMIT 1');
    await wh.query(`INSERT INTO main.cloudsuite.purchase_agreements SELECT * REPLACE ('["100","NOSUCH","1"]' AS _record_key) FROM main.cloudsuite.purchase_agreements LIMIT 1`);
    // What only a reconcile repairs, with none run since: an invoice line M3 deleted (still live) and a ledger row
    // M3 changed without a new stamp (stale).
    run.changed(run.emulator.mutate({ table: 'FAPIBL', company: '200', deletes: 1 }));
    run.changed(run.emulator.mutate({ table: 'FPLEDG', company: '200', silentUpdates: 1 }));
    // A watermark ahead of what was loaded.
    await run.awsClients.documents.send(
      new UpdateCommand({
        TableName: STATE_TABLE,
        Key: { pk: keyOf('wm', 'ACME_PRD'), sk: keyOf('gl_transactions', '100', '') },
        UpdateExpression: 'SET changeStamp = :s',
        ExpressionAttributeValues: { ':s': '99991231' },
      }),
    );

    const damaged = await problems();
    expect(damaged.all).toMatch(/supplier_invoices .*column cuam is/);
    expect(damaged.all).toMatch(/purchase_orders .*missing from the current table/);
    expect(damaged.all).toMatch(/suppliers .*soft-deleted/);
    expect(damaged.all).toMatch(/purchase_order_lines .*stale/);
    expect(damaged.all).toMatch(/supplier_invoice_lines .*was loaded but is not in supplier_invoice_lines_history/);
    expect(damaged.all).toMatch(/gl_transactions_history: version .* is 2 times/);
    expect(damaged.all).toMatch(/ap_ledger_history: the same record content for .* is there under 2 hashes/);
    expect(damaged.all).toMatch(/ap_ledger: key .* is 2 times in the current table/);
    expect(damaged.all).toMatch(/purchase_agreements \["100","NOSUCH","1"\]: live in the current table, never in CloudSuite/);
    expect(damaged.all).toMatch(/watermark gl_transactions\/100 .*ahead of the largest stamp its run loaded/);
    expect(damaged.all).toMatch(/supplier_invoice_lines \[[^\n]*: deleted in CloudSuite, still live after the reconcile/);
    expect(damaged.all).toMatch(/ap_ledger \[[^\n]*: stale \((RECO|REDE) is/);
    // cuam, the order, the supplier, the stale line, the silently changed ledger row; the lost history version (as
    // loaded and as current).
    expect(damaged.lostRecords).toBe(7);
    expect(damaged.duplicatedRows).toBe(3); // the history version, the content under two hashes, the current key
  });

  it('compares amounts as exact decimals', () => {
    expect(canonicalNumber('1234.50')).toBe('1234.5');
    expect(canonicalNumber('-0.00')).toBe('0');
    expect(canonicalNumber('123456789012.34')).toBe('123456789012.34');
    expect(canonicalNumber('')).toBeNull();
    expect(canonicalNumber('0.10')).not.toBe(canonicalNumber('0.1000001'));
  });
});
