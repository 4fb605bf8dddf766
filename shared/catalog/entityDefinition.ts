// What an entity is: where its records come from in M3, its key, change fields and field types.
// Entities are data, validated here, so a user adds an MI list transaction or a table without code.
import * as z from 'zod';

const FIELD_NAME = /^[A-Z0-9]{4}$/;
const fieldName = z.string().regex(FIELD_NAME, 'a 4-character M3 field name in upper case, e.g. SUNO');

const fieldDefinitionSchema = z.object({
  name: fieldName,
  /** A alpha, N numeric, D date (yyyyMMdd). */
  type: z.enum(['A', 'N', 'D']),
  length: z.number().int().positive().max(999),
  decimals: z.number().int().min(0).max(30).default(0),
  /** What the field means, as the catalog explains it (column comments). */
  description: z.string().max(500).optional(),
  /** The field's own text in the tenant's M3 metadata (FLDS), set when the entity is resolved against a tenant. */
  tenantDescription: z.string().max(200).optional(),
  /** The column's name in the entity's business-named view (`<table>_v`), e.g. amount_fc for CUAM. */
  businessName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _, e.g. invoice_date').optional(),
  /** An amount the load's control totals sum per unit and period (exact decimal). */
  amount: z.boolean().optional(),
  /** Codes with a fixed meaning in M3 (e.g. TRCD 40 = invoice): the view shows the meaning beside the code. */
  codes: z.record(z.string().regex(/^[A-Za-z0-9]{1,15}$/), z.string().min(1).max(60)).optional(),
});

const miListSourceSchema = z.object({
  kind: z.literal('mi-list'),
  program: z.string().regex(/^[A-Z0-9]{3,10}MI$/, 'an MI program name such as CRS620MI'),
  transaction: z.string().regex(/^[A-Za-z0-9]{3,15}$/, 'an MI transaction name such as LstSuppliers'),
  /** Fixed inputs sent on every call, e.g. { AITP: '1' }. */
  inputs: z.record(z.string(), z.string()).default({}),
  /** Input field that carries the company (the session company is always set as well). */
  companyInput: z.string().optional(),
  /** Input field that carries the division, for division-scoped entities. */
  divisionInput: z.string().optional(),
  /**
   * Start-key paging: key field -> input field that starts the list at that value,
   * e.g. { SUNO: 'FRSU' }. Empty means the transaction has no start key and is read in one call.
   */
  startKeyInputs: z.record(fieldName, z.string()).default({}),
  /**
   * Key fields the transaction does not output (e.g. CONO of PPS100MI/LstAgrHead): filled from the
   * unit's company or division, and never asked for in returncols.
   */
  fromUnit: z.array(z.enum(['CONO', 'DIVI'])).default([]),
});

const exportMiSourceSchema = z.object({
  kind: z.literal('exportmi'),
  table: z.string().regex(/^[A-Z0-9]{4,10}$/, 'an M3 table name such as MPHEAD'),
  /** The table's 2-character column prefix, e.g. IA for MPHEAD. */
  prefix: z.string().regex(/^[A-Z0-9]{2}$/, 'a 2-character column prefix such as IA'),
  /**
   * 'key-cursor' pages with AND-only key conditions (rows must come in key order);
   * 'single-call' reads the whole unit with maxrecs=0 (for servers that do not return key order).
   */
  paging: z.enum(['key-cursor', 'single-call']).default('key-cursor'),
  /** REPL separators to try in order (one character each); the default suits most data. */
  separators: z.array(z.string().length(1)).min(1).optional(),
});

/**
 * How a backfill or full read of a large EXPORTMI table splits into sub-units, each a range of one key field
 * read in parallel within the tenant's call budget (shared/pipeline/keyRanges.ts). Boundaries b1 < … < bk make
 * the ranges (below b1), [b1, b2), …, [bk, above): every key falls in exactly one, whatever the boundaries.
 * year: the accounting year (YEA4): one range per year of the last `years`, the older years together in the
 * first. division: the company's divisions (MNS100MI/LstDivisions) as boundaries, for company-scoped tables
 * whose key holds DIVI. boundaries: fixed values of the field (e.g. order number ranges).
 */
const splitSchema = z.object({
  field: fieldName,
  by: z.enum(['year', 'division', 'boundaries']),
  /** by year: how many ranges (the current year, the years before it, and one for everything older). */
  years: z.number().int().min(1).max(50).default(6),
  /** by boundaries: the lower bounds of every range after the first, ascending. */
  boundaries: z.array(z.string().max(40)).max(99).default([]),
});

export const entityDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'lower-case letters, digits and _ (it names the target table)'),
    description: z.string().default(''),
    source: z.discriminatedUnion('kind', [miListSourceSchema, exportMiSourceSchema]),
    /** Primary key fields in key order; always includes CONO (and DIVI where the table's key has it). */
    key: z.array(fieldName).min(1),
    /**
     * The fields wanted, with their types as the catalog knows them: the preferred set, checked against each
     * tenant's metadata (types, lengths and decimals come from the tenant; a field the tenant lacks is
     * dropped with a warning). "all": every field of the table or transaction, as the tenant has them.
     */
    fields: z.union([z.literal('all'), z.array(fieldDefinitionSchema)]),
    /** Set when `fields` is "all" (fields then hold the tenant's fields once resolved, none before). */
    allFields: z.boolean().default(false),
    changeFields: z
      .object({ date: fieldName.optional(), counter: fieldName.optional(), timestamp: fieldName.optional() })
      .default({}),
    /**
     * The date field whose month is a record's period in the load's control totals (the ledger's accounting
     * date for ledgers); default the change date. Entities without either have one period, "none".
     */
    controlPeriodField: fieldName.optional(),
    /** snapshot: full read every run, changes found by content hash. incremental: filter on the change date. */
    strategy: z.enum(['snapshot', 'incremental']),
    /** company: one unit per company; division: one unit per company and division. */
    scope: z.enum(['company', 'division']).default('company'),
    /** Records per MI call. */
    pageSize: z.number().int().positive().max(100_000).default(1000),
    /**
     * EXPORTMI pages halve when the gateway times out (504, or no answer within the attempt timeout) and
     * grow back after successes; below this many records they fail with advice instead.
     */
    minPageSize: z.number().int().positive().max(100_000).default(50),
    /**
     * A call without a start key reads everything at once; it fails loudly when it returns this many rows,
     * because the list may have been cut short: M3 stops several list transactions at 10,000 records
     * whatever maxrecs says.
     */
    singleCallCap: z.number().int().positive().default(10_000),
    /** Backfills and full reads of a large EXPORTMI table: parallel sub-units by key range. */
    split: splitSchema.optional(),
  })
  .superRefine((entity, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    // With every field of the table (or before it is resolved against a tenant), names are checked then.
    const listed = entity.fields === 'all' ? undefined : entity.fields;
    if (listed && listed.length === 0 && !entity.allFields) problem(['fields'], 'name at least one field, or "all"');
    const names = new Set((listed ?? []).map((f) => f.name));
    const has = (name: string) => entity.fields === 'all' || (entity.allFields && names.size === 0) || names.has(name);
    if (listed && names.size !== listed.length) problem(['fields'], 'field names must be unique');
    entity.key.forEach((k, i) => {
      if (!has(k)) problem(['key', i], `key field ${k} is not among the entity's fields`);
    });
    if (!entity.key.includes('CONO')) problem(['key'], 'the key must include CONO (company)');
    for (const [role, f] of Object.entries(entity.changeFields)) {
      if (f && !has(f)) problem(['changeFields', role], `change field ${f} is not among the entity's fields`);
    }
    if (entity.strategy === 'incremental') {
      if (!entity.changeFields.date) problem(['changeFields', 'date'], 'an incremental entity needs a change date field (LMDT)');
      if (entity.source.kind !== 'exportmi') {
        problem(['strategy'], 'incremental reads need a server-side date filter: use an exportmi source');
      }
    }
    if (entity.controlPeriodField && !has(entity.controlPeriodField)) {
      problem(['controlPeriodField'], `control period field ${entity.controlPeriodField} is not among the entity's fields`);
    }
    const businessNames = (listed ?? []).flatMap((f) => (f.businessName ? [f.businessName] : []));
    const repeated = businessNames.find((n, i) => businessNames.indexOf(n) !== i);
    if (repeated) problem(['fields'], `business name ${repeated} is given to two fields; each column of the view needs its own`);
    if (entity.scope === 'division' && !has('DIVI')) problem(['scope'], 'a division-scoped entity needs a DIVI field');
    if (entity.split) {
      const { split } = entity;
      if (entity.source.kind !== 'exportmi') problem(['split'], 'only EXPORTMI entities split by key range (MI list transactions take no range conditions)');
      if (!entity.key.includes(split.field) || split.field === 'CONO') problem(['split', 'field'], `split field ${split.field} must be a key field other than CONO`);
      if (split.by === 'division' && (split.field !== 'DIVI' || entity.scope !== 'company')) {
        problem(['split', 'by'], 'a split by division is on DIVI of a company-scoped entity (division-scoped ones are already one unit per division)');
      }
      if (split.by === 'year' && listed && listed.find((f) => f.name === split.field)?.type === 'A') problem(['split', 'field'], 'a split by year needs a numeric year field (YEA4)');
      if (split.by === 'boundaries' && split.boundaries.length === 0) problem(['split', 'boundaries'], 'name at least one boundary');
    }
    if (entity.source.kind === 'mi-list') {
      for (const [k, input] of Object.entries(entity.source.startKeyInputs)) {
        if (!has(k)) problem(['source', 'startKeyInputs', k], `start key field ${k} is not among the entity's fields`);
        if (!input) problem(['source', 'startKeyInputs', k], 'input name is empty');
      }
      if (entity.scope === 'division' && !entity.source.divisionInput) {
        problem(['source', 'divisionInput'], 'a division-scoped MI list entity needs the input that carries DIVI');
      }
    }
  })
  .transform(({ fields, allFields, ...entity }) => ({
    ...entity,
    fields: fields === 'all' ? [] : fields,
    allFields: allFields || fields === 'all',
  }));

export type FieldDefinition = z.infer<typeof fieldDefinitionSchema>;
/**
 * An entity as the product works with it: `fields` always a list. For `fields: "all"` the list is empty
 * (allFields) until the entity is resolved against a tenant's metadata (shared/extract/resolveEntity.ts).
 */
export type EntityDefinition = z.infer<typeof entityDefinitionSchema>;
export type EntityDefinitionInput = z.input<typeof entityDefinitionSchema>;
export type MiListSource = z.infer<typeof miListSourceSchema>;
export type ExportMiSource = z.infer<typeof exportMiSourceSchema>;
export type EntitySplit = z.infer<typeof splitSchema>;
