// The emulator's calendar: "today" for change stamps, and moving it forward day by day, each new day
// bringing that day's business changes (see changes.ts). Token expiry uses real time, not this clock.
import { mergeSummaries, type ChangeEngine } from './changes.ts';
import type { ChangeSummary } from './types.ts';
import { addDays } from './values.ts';

export class EmulatorClock {
  private current: string;

  constructor(
    startDate: string,
    private readonly engine: ChangeEngine,
  ) {
    this.current = startDate;
  }

  today(): string {
    return this.current;
  }

  /** Moves to each of the next `days` days in turn; every day changes data stamped on that day. */
  advanceDays(days: number): ChangeSummary {
    if (!Number.isInteger(days) || days < 0) throw new RangeError(`advanceDays: days must be a non-negative integer, got ${days}`);
    const summaries: ChangeSummary[] = [];
    for (let i = 0; i < days; i++) {
      this.current = addDays(this.current, 1);
      summaries.push(this.engine.simulateDay(this.current));
    }
    return mergeSummaries(summaries);
  }
}
