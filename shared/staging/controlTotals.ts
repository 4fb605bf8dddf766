// Finance control totals of a staged unit: per period, the record count and the exact sum of every amount
// field, as M3 returned the values (decimal text summed as scaled integers, never floats). The stager keeps
// them in the manifest; the load compares them with the rows it is about to merge and records both.
// A record's period is the month (yyyy-MM) of the entity's control period field: the accounting date for the
// ledgers, else the change date (catalog data, `controlPeriodField`); "none" when the entity has no such field
// or the record no date there.
import * as z from 'zod';
import type { EntityDefinition } from '../catalog/entityDefinition.ts';
import { isNoDate } from './changeDate.ts';

export const NO_PERIOD = 'none';

export const periodTotalsSchema = z.object({
  records: z.number().int().nonnegative(),
  /** Amount field (M3 name) → exact decimal text, e.g. "1234.5" (no insignificant zeros). */
  amounts: z.record(z.string(), z.string().regex(/^-?\d+(\.\d+)?$/)),
});
/** Period (yyyy-MM or "none") → totals. */
export const controlTotalsSchema = z.record(z.string(), periodTotalsSchema);
export type ControlTotals = z.infer<typeof controlTotalsSchema>;

/** The date field whose month is a record's period, or undefined (one period, "none"). */
export function controlPeriodField(entity: EntityDefinition): string | undefined {
  const name = entity.controlPeriodField ?? entity.changeFields.date;
  return name !== undefined && entity.fields.some((f) => f.name === name && f.type === 'D') ? name : undefined;
}

/** The fields a control total sums. */
export function amountFields(entity: EntityDefinition): string[] {
  return entity.fields.filter((f) => f.amount && f.type === 'N').map((f) => f.name);
}

/** yyyyMMdd → yyyy-MM; no date → "none". */
export function periodOf(date: string | undefined): string {
  const value = (date ?? '').trim();
  return value === '' || isNoDate(value) || !/^\d{8}$/.test(value) ? NO_PERIOD : `${value.slice(0, 4)}-${value.slice(4, 6)}`;
}

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;

/** Decimal text as a scaled integer; undefined when it is not a number (the load's value check refuses those). */
function scaled(text: string): { units: bigint; scale: number } | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) return undefined;
  const fraction = m[3] ?? '';
  const units = BigInt(`${m[2] || '0'}${fraction}`);
  return { units: m[1] ? -units : units, scale: fraction.length };
}

/** a + b, exactly, as canonical decimal text (no insignificant zeros, "0" for zero). */
export function addDecimal(a: string, b: string): string {
  const x = scaled(a);
  const y = scaled(b);
  if (!x || !y) throw new Error(`not decimal text: ${JSON.stringify(x ? b : a)}`);
  const scale = Math.max(x.scale, y.scale);
  const sum = x.units * 10n ** BigInt(scale - x.scale) + y.units * 10n ** BigInt(scale - y.scale);
  return canonicalTotal(sum, scale);
}

function canonicalTotal(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = `${whole}${fraction ? `.${fraction}` : ''}`;
  return text === '0' ? '0' : `${negative ? '-' : ''}${text}`;
}

/** The same decimal in canonical text ("0100.50" → "100.5"); undefined when it is not a number. */
export function canonicalTotalOf(text: string): string | undefined {
  const x = scaled(text);
  return x ? canonicalTotal(x.units, x.scale) : undefined;
}

/** Adds one record to running totals (in place). Blank amounts add nothing, as SQL's SUM skips NULL. */
export function addToTotals(totals: ControlTotals, entity: EntityDefinition, record: Readonly<Record<string, string | undefined>>): void {
  const field = controlPeriodField(entity);
  const period = periodOf(field ? record[field] : undefined);
  const entry = (totals[period] ??= { records: 0, amounts: Object.fromEntries(amountFields(entity).map((f) => [f, '0'])) });
  entry.records += 1;
  for (const name of amountFields(entity)) {
    const value = (record[name] ?? '').trim();
    if (value === '' || scaled(value) === undefined) continue;
    entry.amounts[name] = addDecimal(entry.amounts[name] ?? '0', value);
  }
}
