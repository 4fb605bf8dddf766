// WatermarkStore over the folder state table (folderStateTable.ts), with the items and the guarantee of
// DynamoWatermarkStore: an advance stores the mark only if it is past the stored one (one change of the
// tenant's partition), so concurrent runs cannot move a watermark back.
import type { FolderStateTable, StateItem } from './folderStateTable.ts';
import { keyOf } from './stateTable.ts';
import { assertChangeDate, type AdvanceResult, type Watermark, type WatermarkKey, type WatermarkMark, type WatermarkStore } from './watermarkStore.ts';

export interface FolderWatermarkStoreOptions {
  table: FolderStateTable;
  now?: () => number;
}

const pkOf = (tenant: string) => keyOf('wm', tenant);
const skOf = (key: WatermarkKey) => keyOf(key.entity, key.company, key.division);

function toWatermark(item: StateItem): Watermark {
  return { changeDate: item.changeDate as string, changeStamp: item.changeStamp as string, runId: item.runId as string, updatedAt: item.updatedAt as string };
}

export class FolderWatermarkStore implements WatermarkStore {
  private readonly table: FolderStateTable;
  private readonly now: () => number;

  constructor(options: FolderWatermarkStoreOptions) {
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  async get(key: WatermarkKey): Promise<Watermark | undefined> {
    const item = await this.table.get(pkOf(key.tenant), skOf(key));
    return item === undefined ? undefined : toWatermark(item);
  }

  async advance(key: WatermarkKey, mark: WatermarkMark): Promise<AdvanceResult> {
    assertChangeDate(mark.changeDate, 'watermark changeDate');
    if (mark.changeStamp === '') throw new Error('watermark changeStamp must not be empty');
    const updatedAt = new Date(this.now()).toISOString();
    const pk = pkOf(key.tenant);
    const sk = skOf(key);
    return this.table.change(pk, (partition): AdvanceResult => {
      const stored = partition.get(sk);
      // Stamps of one key have one fixed-width format: string order is change order.
      if (stored !== undefined && !((stored.changeStamp as string) < mark.changeStamp)) return { advanced: false, current: toWatermark(stored) };
      const item: StateItem = {
        pk, sk, kind: 'watermark', tenant: key.tenant, entity: key.entity, company: key.company, division: key.division,
        changeDate: mark.changeDate, changeStamp: mark.changeStamp, runId: mark.runId, updatedAt,
      };
      partition.set(sk, item);
      return { advanced: true, current: toWatermark(item) };
    });
  }

  async list(tenant: string): Promise<(WatermarkKey & Watermark)[]> {
    return (await this.table.query(pkOf(tenant))).map((item) => ({
      tenant: item.tenant as string,
      entity: item.entity as string,
      company: item.company as string,
      division: item.division as string,
      ...toWatermark(item),
    }));
  }
}
