// The sync's progress line for a loaded table: what a finance user must see at once, the data-quality figures.
import { describe, expect, it } from 'vitest';
import { describeOutcome } from '../../../infra/local/syncProgress.ts';
import { StateNames } from '../../../infra/stack/stateNames.ts';

describe('the progress line of a loaded table', () => {
  it('names, per company, rows changed without a new stamp and keys deleted at the source', () => {
    const line = describeOutcome(StateNames.load, {
      status: 'complete', table: 'main.cloudsuite.supplier_invoices', records: 90, refused: [],
      quality: [{ flow: 'supplier-invoices', company: '100', changedWithoutNewStamp: 2, softDeleted: 3 }],
    });
    expect(line).toBe('  ✓ main.cloudsuite.supplier_invoices: 90 records loaded; data quality: company 100: 2 changed without a new stamp, 3 deleted at source');
  });

  it('says nothing of data quality when there is nothing to report', () => {
    expect(describeOutcome(StateNames.load, { status: 'complete', table: 't', records: 1, refused: [], quality: [] })).toBe('  ✓ t: 1 records loaded');
  });
});
