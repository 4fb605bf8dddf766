// Injected failures: rules matched in order against MI calls (or the token endpoint), each firing
// `count` times after skipping `afterCalls` matching calls. The server decides what each kind does.
import type { FaultKind, FaultRule, RetryAfterStyle } from './types.ts';

const KINDS: readonly FaultKind[] = ['http500', 'http502', 'http503', 'http504', 'reset', 'malformed', 'partial-nok', 'revoke-token', 'http429', 'token-endpoint-500'];

export interface ActiveFault {
  readonly kind: FaultKind;
  readonly retryAfter: RetryAfterStyle;
}

interface RuleState {
  readonly rule: FaultRule;
  readonly count: number;
  readonly afterCalls: number;
  seen: number;
  fired: number;
}

export class FaultPlan {
  private rules: RuleState[] = [];

  add(rule: FaultRule): void {
    if (!KINDS.includes(rule.kind)) throw new Error(`injectFault: unknown kind "${rule.kind}" (known: ${KINDS.join(', ')})`);
    const count = rule.count ?? 1;
    const afterCalls = rule.afterCalls ?? 0;
    if (!Number.isInteger(count) || count < 1) throw new Error(`injectFault: count must be a positive integer, got ${rule.count}`);
    if (!Number.isInteger(afterCalls) || afterCalls < 0) throw new Error(`injectFault: afterCalls must be a non-negative integer, got ${rule.afterCalls}`);
    this.rules.push({ rule: { ...rule }, count, afterCalls, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault an MI call gets, if any; the call counts towards every matching rule's afterCalls. */
  forMiCall(program: string, transaction: string): ActiveFault | undefined {
    return this.fire((r) => r.kind !== 'token-endpoint-500' && (r.program === undefined || r.program === program) && (r.transaction === undefined || r.transaction === transaction));
  }

  /** The fault a token endpoint request gets, if any. */
  forTokenEndpoint(): ActiveFault | undefined {
    return this.fire((r) => r.kind === 'token-endpoint-500');
  }

  private fire(matches: (rule: FaultRule) => boolean): ActiveFault | undefined {
    let fired: RuleState | undefined;
    for (const state of this.rules) {
      if (!matches(state.rule)) continue;
      state.seen++;
      if (!fired && state.seen > state.afterCalls && state.fired < state.count) fired = state;
    }
    if (!fired) return undefined;
    fired.fired++;
    this.rules = this.rules.filter((s) => s.fired < s.count);
    return { kind: fired.rule.kind, retryAfter: fired.rule.retryAfter ?? 'seconds' };
  }
}
