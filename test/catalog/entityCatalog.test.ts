import { describe, expect, it } from 'vitest';
import { EntityCatalog } from '#shared/catalog/entityCatalog.ts';
import { DEFAULT_ENTITY_IDS } from '#shared/catalog/defaultCatalog.ts';

describe('EntityCatalog', () => {
  it('has the default entities', () => {
    expect(DEFAULT_ENTITY_IDS).toEqual([
      'suppliers', 'gl_accounts', 'purchase_agreements', 'purchase_orders', 'purchase_order_lines',
      'supplier_invoices', 'supplier_invoice_lines', 'ap_ledger', 'gl_transactions',
    ]);
    const catalog = EntityCatalog.withDefaults();
    expect(catalog.get('ap_ledger').key).toEqual(['CONO', 'DIVI', 'YEA4', 'JRNO', 'JSNO']);
  });

  it('adds an entity from configuration without code', () => {
    const catalog = EntityCatalog.withDefaults([
      {
        id: 'agreement_lines', source: { kind: 'mi-list', program: 'PPS100MI', transaction: 'LstAgrLine', companyInput: 'CONO' },
        key: ['CONO', 'AGNB'], fields: [{ name: 'CONO', type: 'N', length: 3 }, { name: 'AGNB', type: 'A', length: 10 }],
        strategy: 'snapshot',
      },
    ]);
    expect(catalog.get('agreement_lines').pageSize).toBe(1000);
  });

  it('names the entity and field of a bad definition', () => {
    expect(() =>
      EntityCatalog.withDefaults([
        { id: 'bad_one', source: { kind: 'exportmi', table: 'MPHEAD', prefix: 'IA' }, key: ['PUNO'],
          fields: [{ name: 'PUNO', type: 'A', length: 10 }], strategy: 'incremental' },
      ], 'flows.ts'),
    ).toThrow(/flows\.ts: entity "bad_one" is invalid:[\s\S]*key: the key must include CONO[\s\S]*changeFields\.date/);
  });

  it('lists the known entities for an unknown id', () => {
    expect(() => EntityCatalog.withDefaults().get('invoices')).toThrow(/unknown entity "invoices"; known entities: suppliers, gl_accounts/);
  });
});
