import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { stackTemplate } from './support/stackTemplate.ts';

describe('cdk-nag AwsSolutions checks', () => {
  it('report no unsuppressed finding (error or warning) on the stack', () => {
    const { stack } = stackTemplate();
    // The app applies the checks (infra/app.ts), so `cdk synth` reports the same findings.
    expect(Aspects.of(stack.node.scope!).all.some((a) => a instanceof AwsSolutionsChecks)).toBe(true);
    const findings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ].map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
    expect(findings).toEqual([]);
  });

  it('are suppressed only with a written reason, and only for the rules this stack needs', () => {
    const { template } = stackTemplate();
    const suppressions = Object.entries(template.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }>)
      .flatMap(([id, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => ({ resource: id, ...s })));
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) expect(s.reason.length, `${s.resource} ${s.id}`).toBeGreaterThan(40);
    expect([...new Set(suppressions.map((s) => s.id))].sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4', 'AwsSolutions-SQS3']);
  });
});
