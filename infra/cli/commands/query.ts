// `query`: runs one SQL statement against the local warehouse file (or Databricks) and prints the
// rows as JSON lines, so a user can look at what a sync loaded without other tools.
import { result } from '../output.ts';
import { openWarehouse, type WarehouseOptions } from '../warehouseTarget.ts';

export async function queryCommand(sql: string, options: WarehouseOptions): Promise<number> {
  const warehouse = await openWarehouse(options);
  try {
    const rows = await warehouse.session.execute(sql);
    for (const row of rows) {
      result(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
    return 0;
  } finally {
    await warehouse.close();
  }
}
