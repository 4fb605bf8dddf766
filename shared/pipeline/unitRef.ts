// Which unit of a run: flow × company [× division], and for a split backfill one of its key-range parts. Its id
// (flow/company[/division][/~part]) is what the plan, the ledger, the state machine's payloads and the console
// show; this is the one place that writes it, reads it back and names the staging keys that belong to a unit.
import { joinKey } from '../staging/blobStore.ts';

/** The shape of a unit id, for messages: a division only for division-scoped entities. */
export const UNIT_ID_FORMAT = 'flow/company[/division][/~part]';

/** Marks the part segment; escaped in every other segment, so it cannot be mistaken for a value. */
const PART_MARK = '~';

/**
 * Flow ids and companies are validated by the configuration schema, but a division comes from M3
 * (MNS100MI/LstDivisions) when a flow reads them all: '/', '%' and '~' are escaped so that any value round-trips
 * and no unit's staging folder can sit inside another's. Ordinary values read as they are.
 */
function escapePart(part: string): string {
  return part.replace(/[%/~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapePart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export class UnitRef {
  private constructor(
    readonly flow: string,
    readonly company: string,
    /** '' for company-scoped entities. */
    readonly division: string,
    /** The sub-unit's number (1-based) in a split backfill; undefined for a whole unit. */
    readonly part?: number,
  ) {}

  /** A planned unit's reference (PlannedUnit and UnitRecord have these fields). */
  static of(unit: { flow: string; company: string; division: string; part?: { index: number } | number }): UnitRef {
    if (unit.flow === '' || unit.company === '') {
      throw new Error(`a unit needs a flow and a company, got flow "${unit.flow}", company "${unit.company}"`);
    }
    const part = typeof unit.part === 'number' ? unit.part : unit.part?.index;
    if (part !== undefined && !(Number.isInteger(part) && part > 0)) throw new Error(`a sub-unit's number is a positive integer, got ${part}`);
    return new UnitRef(unit.flow, unit.company, unit.division, part);
  }

  /** The reference a unit id stands for; undefined when the text is not a unit id. */
  static tryParse(unitId: string): UnitRef | undefined {
    const segments = unitId.split('/');
    let part: number | undefined;
    const last = segments.at(-1) ?? '';
    if (last.startsWith(PART_MARK)) {
      if (!/^~[1-9][0-9]{0,3}$/.test(last)) return undefined;
      part = Number(last.slice(1));
      segments.pop();
    }
    // Values escape '~': a raw one anywhere else is not an id this class wrote.
    if (segments.some((segment) => segment.includes(PART_MARK))) return undefined;
    const parts = segments.map(unescapePart);
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === undefined || p === '')) return undefined;
    const [flow, company, division = ''] = parts as string[];
    return new UnitRef(flow!, company!, division, part);
  }

  static parse(unitId: string): UnitRef {
    const ref = UnitRef.tryParse(unitId);
    if (!ref) throw new Error(`"${unitId}" is not a unit id (${UNIT_ID_FORMAT})`);
    return ref;
  }

  /** Unique within a run and readable in the console. */
  get id(): string {
    const parts = this.division === '' ? [this.flow, this.company] : [this.flow, this.company, this.division];
    return [...parts.map(escapePart), ...this.partSegment()].join('/');
  }

  /** The id of the whole scope (flow/company[/division]) a sub-unit is part of; the unit's own id otherwise. */
  get scopeId(): string {
    return UnitRef.of({ flow: this.flow, company: this.company, division: this.division }).id;
  }

  private partSegment(): string[] {
    return this.part === undefined ? [] : [`${PART_MARK}${this.part}`];
  }

  toString(): string {
    return this.id;
  }

  /** Logger keys of a step working on the unit (no division key for a company-scoped one). */
  logKeys(): { unitId: string; flow: string; company: string; division?: string; part?: number } {
    return {
      unitId: this.id, flow: this.flow, company: this.company,
      ...(this.division === '' ? {} : { division: this.division }), ...(this.part === undefined ? {} : { part: this.part }),
    };
  }

  /** The staging folder of the unit's part files and manifest in one run. */
  stagingPrefix(tenant: string, runId: string): string {
    return joinKey('runs', tenant, runId, ...[this.flow, this.company, this.division].map(escapePart), ...this.partSegment());
  }

  /** Where Extract leaves the checkpoint of its `invocation`-th invocation of the unit in one run. */
  checkpointKey(tenant: string, runId: string, invocation: number): string {
    return joinKey('runs', tenant, runId, '_checkpoints', encodeURIComponent(this.id), `${invocation}.json`);
  }
}
