// MERGE … WHEN NOT MATCHED BY SOURCE as Databricks runs it (several clauses, the first whose condition holds
// wins; UPDATE SET or DELETE; counted in the MERGE's figures), which the emulator runs beside the DuckDB MERGE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarehouseEmulator, type WarehouseEmulator } from '#emulators/databricks/index.ts';

let emulator: WarehouseEmulator;
beforeAll(async () => {
  emulator = await startWarehouseEmulator();
});
afterAll(() => emulator.close());

describe('MERGE with WHEN NOT MATCHED BY SOURCE', () => {
  it('updates or deletes the target rows no source row matches, by the first clause that holds, beside the matched and inserted rows', async () => {
    await emulator.query('CREATE TABLE main.default.target (id STRING, company STRING, v STRING, gone BOOLEAN) USING DELTA');
    await emulator.query(
      "INSERT INTO main.default.target VALUES ('1', 'A', 'old', false), ('2', 'A', 'old', false), ('3', 'B', 'old', false), ('4', 'C', 'old', false), ('5', 'A', 'old', true)",
    );
    await emulator.query("CREATE TABLE main.default.source (id STRING, v STRING) USING DELTA");
    await emulator.query("INSERT INTO main.default.source VALUES ('1', 'new'), ('6', 'new')");
    const [counts] = await emulator.query(
      'MERGE INTO main.default.target AS t USING main.default.source AS s ON t.id <=> s.id ' +
        'WHEN MATCHED THEN UPDATE SET v = s.v ' +
        "WHEN NOT MATCHED THEN INSERT (id, company, v, gone) VALUES (s.id, 'A', s.v, false) " +
        "WHEN NOT MATCHED BY SOURCE AND t.company = 'A' AND NOT t.gone THEN UPDATE SET gone = true, v = 'first clause' " +
        "WHEN NOT MATCHED BY SOURCE AND t.company IN ('A', 'B') THEN UPDATE SET v = 'second clause' " +
        "WHEN NOT MATCHED BY SOURCE AND t.company = 'C' THEN DELETE",
    );
    expect(counts).toEqual({ num_affected_rows: 6n, num_updated_rows: 4n, num_deleted_rows: 1n, num_inserted_rows: 1n });
    expect(await emulator.query('SELECT id, company, v, gone FROM main.default.target ORDER BY id')).toEqual([
      { id: '1', company: 'A', v: 'new', gone: false },
      { id: '2', company: 'A', v: 'first clause', gone: true },
      { id: '3', company: 'B', v: 'second clause', gone: false },
      { id: '5', company: 'A', v: 'second clause', gone: true },
      { id: '6', company: 'A', v: 'new', gone: false },
    ]);
  });
});
