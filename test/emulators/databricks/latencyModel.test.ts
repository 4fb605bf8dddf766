// The latency model benchmarks use to stand in for a real warehouse: what it charges, and that the emulator
// logs (or sleeps) it per statement only when asked.
import { describe, expect, it } from 'vitest';
import { connectToEmulator, startWarehouseEmulator } from '#emulators/databricks/index.ts';
import { commits, modeledMs, PUBLIC_WAREHOUSE_LATENCY, writtenBytes } from '#emulators/databricks/latencyModel.ts';

describe('the latency model', () => {
  it('charges every statement, a commit for writes, and time per MiB written', () => {
    expect(commits('SELECT 1')).toBe(false);
    expect(['INSERT INTO t', 'MERGE INTO t', 'COPY INTO t', 'CREATE TABLE t', 'ALTER TABLE t', 'DROP TABLE t', ' update t set'].every((s) => commits(s))).toBe(true);
    expect(modeledMs(PUBLIC_WAREHOUSE_LATENCY, 'SHOW TABLES', 0)).toBe(300);
    expect(modeledMs(PUBLIC_WAREHOUSE_LATENCY, 'INSERT INTO t VALUES (1)', 0)).toBe(1500);
    expect(modeledMs(PUBLIC_WAREHOUSE_LATENCY, 'COPY INTO t FROM x', 100 * 2 ** 20)).toBe(1500 + 4000);
    expect(writtenBytes('INSERT INTO t SELECT …', { parameterBytes: 900_000 }, PUBLIC_WAREHOUSE_LATENCY)).toBe(900_000);
    expect(writtenBytes('COPY INTO t FROM …', { parameterBytes: 0, bytesRead: 5_000 }, PUBLIC_WAREHOUSE_LATENCY)).toBe(5_000);
    expect(writtenBytes('MERGE INTO t …', { parameterBytes: 10, rowsWritten: 1000 }, PUBLIC_WAREHOUSE_LATENCY)).toBe(1_400_000);
    expect(writtenBytes('SELECT 1', { parameterBytes: 10 }, PUBLIC_WAREHOUSE_LATENCY)).toBe(0);
  });

  it('is logged per statement when the emulator runs with it, and absent otherwise', async () => {
    for (const latency of ['public-warehouse', undefined] as const) {
      const emulator = await startWarehouseEmulator(latency ? { latency } : {});
      const { client } = await connectToEmulator(emulator);
      const session = await client.openSession();
      for (const sql of ['CREATE TABLE t (id INT)', 'INSERT INTO t VALUES (1), (2)', 'SELECT * FROM t']) {
        const op = await session.executeStatement(sql);
        await op.finished();
        await op.close();
      }
      await client.close();
      await emulator.close();
      expect(emulator.statements.map((s) => s.modeledMs)).toEqual(latency ? [1500, 1500 + (2 * 1400 * 40) / 2 ** 20, 300] : [undefined, undefined, undefined]);
    }
  });
});
