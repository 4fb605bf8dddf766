// Calendar dates in a tenant's time zone: M3 stamps changes with a local date only (LMDT), so "today" and
// the date of a snapshot are taken in the zone the tenant's M3 writes, never in the machine's zone.

/** The yyyyMMdd date of an instant in an IANA time zone. */
export function dateInZone(epochMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(epochMs),
  );
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}${part('month')}${part('day')}`;
}
