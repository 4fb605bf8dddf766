// A stand-in for the Databricks loader in pipeline tests: it reads every staged unit back through the
// verified reader (sha256, counts) and keeps the "current table" (one row per key) and the history rows
// (one per key and record hash) in memory, so tests can see exactly what a run loaded and spot duplicates.
import type { LoadTableRequest, LoadTableResult } from '#shared/load/loadTypes.ts';
import { readManifest, readStagedRecords } from '#shared/staging/stagedUnitReader.ts';
import type { StagedRecord } from '#shared/staging/stagedRecord.ts';

export interface RecordingTable {
  current: Map<string, StagedRecord>;
  /** `<key>|<hash>` → times a load delivered that exact version. */
  history: Map<string, number>;
  /** Rows delivered in total (duplicates across loads included). */
  delivered: number;
}

export interface RecordingLoader {
  loadTable(request: LoadTableRequest): Promise<LoadTableResult>;
  tables: Map<string, RecordingTable>;
  calls: { table: string; units: string[] }[];
}

export function recordingLoader(): RecordingLoader {
  const tables = new Map<string, RecordingTable>();
  const calls: RecordingLoader['calls'] = [];
  return {
    tables,
    calls,
    async loadTable(request) {
      const key = `${request.table.catalog}.${request.table.schema}.${request.table.name}`;
      calls.push({ table: key, units: request.units.map((u) => u.unitId) });
      const table = tables.get(key) ?? { current: new Map(), history: new Map(), delivered: 0 };
      tables.set(key, table);
      let historyInserted = 0;
      const units = [];
      for (const unit of request.units) {
        const manifest = await readManifest(request.store, unit.unitPrefix);
        let records = 0;
        for await (const record of readStagedRecords(request.store, unit.unitPrefix, manifest)) {
          records += 1;
          table.delivered += 1;
          table.current.set(record._record_key, record);
          const version = `${record._record_key}|${record._record_hash}`;
          if (!table.history.has(version)) historyInserted += 1;
          table.history.set(version, (table.history.get(version) ?? 0) + 1);
        }
        units.push({ unitId: unit.unitId, records, maxChangeStamp: manifest.maxChangeStamp, maxChangeDate: manifest.maxChangeDate });
      }
      return {
        status: 'loaded',
        table: request.table,
        historyInserted,
        currentInserted: 0,
        currentUpdated: 0,
        currentSoftDeleted: 0,
        quality: [],
        statements: 0,
        bytesSent: 0,
        units,
        refused: [],
      };
    },
  };
}
