// Plan keys: the one place that names where an execution's plan is staged and reads the name back.
import { describe, expect, it } from 'vitest';
import { executionOfPlanKey, planKeyOf } from '#shared/pipeline/runPlan.ts';

describe('plan keys', () => {
  it.each(['exec-1', 'nightly/2026-11-20', 'rerun of 50%', 'ünïcode'])('round-trips the execution name "%s"', (name) => {
    const key = planKeyOf(name);
    expect(key).toMatch(/^plans\/[^/]+\.json$/);
    expect(executionOfPlanKey(key)).toBe(name);
  });
});
