// Changes to the emulated tenant: a day of business activity (the clock) and explicit mutations
// (mutate()). Updates bump CHNO, LMDT and LMTS like M3 does; keys never change; inserts use the
// same builders as the seeded data; deletes are silent, as they are to an incremental reader.
import type { CompanyInfo, Dataset } from './dataset.ts';
import { Rng } from './prng.ts';
import { keySegment, type Partition } from './store.ts';
import { fieldOf, tableDef, type TableDef } from './tables.ts';
import type { ChangeCounts, ChangeSummary, M3Row, MutationPlan } from './types.ts';
import { addDays, formatScaled } from './values.ts';

/** Tables that change; CMNDIV (companies and divisions) is configuration and stays put. */
export const MUTABLE_TABLES = ['CIDMAS', 'FCHACC', 'MPAGRH', 'MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG'] as const;
type MutableTable = (typeof MUTABLE_TABLES)[number];

/** The tables the catalog reads incrementally (by LMDT): the ones silent changes and deletes hide from. */
export const INCREMENTAL_TABLES = ['MPHEAD', 'MPLINE', 'FAPIBH', 'FAPIBL', 'FPLEDG', 'FGLEDG'] as const satisfies readonly MutableTable[];

/** Daily share of a table's rows that is updated (at least one row when the table has any). */
const DAILY_UPDATE_RATE: Record<MutableTable, number> = {
  CIDMAS: 0.02,
  FCHACC: 0.01,
  MPAGRH: 0.02,
  MPHEAD: 0.03,
  MPLINE: 0.01,
  FAPIBH: 0.02,
  FAPIBL: 0.01,
  FPLEDG: 0.005,
  FGLEDG: 0.002,
};

const USERS = ['JSMITH', 'MBERG', 'LWANG', 'KMULLER', 'AUTOJOB'];

class SummaryBuilder {
  private readonly byTable: Record<string, ChangeCounts> = {};

  add(table: string, kind: keyof ChangeCounts, n = 1): void {
    if (n === 0) return;
    const counts = (this.byTable[table] ??= { updated: 0, inserted: 0, deleted: 0 });
    counts[kind] = (counts[kind] ?? 0) + n;
  }

  merge(other: ChangeSummary): void {
    for (const [table, counts] of Object.entries(other.byTable)) {
      this.add(table, 'updated', counts.updated);
      this.add(table, 'inserted', counts.inserted);
      this.add(table, 'deleted', counts.deleted);
      this.add(table, 'silentlyChanged', counts.silentlyChanged ?? 0);
    }
  }

  build(): ChangeSummary {
    const total: ChangeCounts = { updated: 0, inserted: 0, deleted: 0 };
    for (const counts of Object.values(this.byTable)) {
      total.updated += counts.updated;
      total.inserted += counts.inserted;
      total.deleted += counts.deleted;
      if (counts.silentlyChanged) total.silentlyChanged = (total.silentlyChanged ?? 0) + counts.silentlyChanged;
    }
    return { ...total, byTable: structuredClone(this.byTable) };
  }
}

export function emptySummary(): ChangeSummary {
  return new SummaryBuilder().build();
}

export function mergeSummaries(summaries: ChangeSummary[]): ChangeSummary {
  const builder = new SummaryBuilder();
  for (const s of summaries) builder.merge(s);
  return builder.build();
}

export class ChangeEngine {
  private mutations = 0;

  /** The knobs read each simulated day (silent changes, extra deletes). */
  constructor(
    private readonly data: Dataset,
    private readonly hiddenChanges: () => { silentChangesPerDay: number; deletesPerDay: number } = () => ({ silentChangesPerDay: 0, deletesPerDay: 0 }),
  ) {}

  /** One business day: orders, invoices, payments and GL entries arrive; master data is maintained. */
  simulateDay(day: string): ChangeSummary {
    const summary = new SummaryBuilder();
    for (const company of this.data.companies) this.simulateCompanyDay(company, day, summary);
    return summary.build();
  }

  /** Explicit changes stamped `day`: exactly the requested number of single-row operations. */
  mutate(plan: MutationPlan, day: string): ChangeSummary {
    const tables = plan.table === undefined ? [...MUTABLE_TABLES] : [this.mutableTable(plan.table)];
    const companies = plan.company === undefined ? this.data.companies : [this.companyOf(plan.company)];
    for (const [name, n] of Object.entries({ updates: plan.updates, silentUpdates: plan.silentUpdates, inserts: plan.inserts, deletes: plan.deletes })) {
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new RangeError(`mutate: ${name} must be a non-negative integer, got ${n}`);
    }
    const rng = Rng.for(this.data.seed, 'mutate', day, ++this.mutations);
    const summary = new SummaryBuilder();
    const pick = (i: number) => ({ table: tables[i % tables.length] as MutableTable, company: companies[rng.int(companies.length)] as CompanyInfo });
    for (let i = 0; i < (plan.updates ?? 0); i++) {
      const { table, company } = pick(i);
      if (this.updateRandom(rng, table, company, day)) summary.add(table, 'updated');
    }
    for (let i = 0; i < (plan.silentUpdates ?? 0); i++) {
      const { table, company } = pick(i);
      const row = this.randomRow(rng, table, company);
      if (row && this.changeSilently(rng, table, row, day)) summary.add(table, 'silentlyChanged');
    }
    for (let i = 0; i < (plan.inserts ?? 0); i++) {
      const { table, company } = pick(i);
      const row = this.buildSingleRow(rng, table, company, day);
      if (row) {
        this.data.db.table(table).insert(row);
        summary.add(table, 'inserted');
      }
    }
    for (let i = 0; i < (plan.deletes ?? 0); i++) {
      const { table, company } = pick(i);
      this.deleteRandom(rng, table, company, summary);
    }
    return summary.build();
  }

  private mutableTable(name: string): MutableTable {
    const def = tableDef(name);
    if (!(MUTABLE_TABLES as readonly string[]).includes(def.name)) {
      throw new Error(`mutate: ${def.name} is configuration, not business data; mutable tables: ${MUTABLE_TABLES.join(', ')}`);
    }
    return def.name as MutableTable;
  }

  private companyOf(cono: string): CompanyInfo {
    const company = this.data.company(cono);
    if (!company) throw new Error(`mutate: company ${cono} is not emulated (companies: ${this.data.companies.map((c) => c.cono).join(', ')})`);
    return company;
  }

  private partition(table: string, company: CompanyInfo): Partition {
    return this.data.partition(table, company.cono);
  }

  private randomRow(rng: Rng, table: string, company: CompanyInfo, accept?: (row: M3Row) => boolean): M3Row | undefined {
    const rows = this.partition(table, company).rows();
    if (rows.length === 0) return undefined;
    for (let attempt = 0; attempt < 25; attempt++) {
      const row = rows[rng.int(rows.length)] as M3Row;
      if (!accept || accept(row)) return row;
    }
    return undefined;
  }

  // --- a business day -----------------------------------------------------------------------------

  private simulateCompanyDay(company: CompanyInfo, day: string, summary: SummaryBuilder): void {
    const rng = Rng.for(this.data.seed, 'day', day, company.cono);
    const volume = this.data.config.volume;
    const insert = (table: string, row: M3Row) => {
      this.data.db.table(table).insert(row);
      summary.add(table, 'inserted');
    };

    // Updates, a few of them twice on the same day (CHNO +2, LMTS still increasing).
    for (const table of MUTABLE_TABLES) {
      const size = this.partition(table, company).size;
      if (size === 0) continue;
      const n = Math.max(1, Math.round(size * DAILY_UPDATE_RATE[table]));
      for (let i = 0; i < n; i++) {
        const row = this.randomRow(rng, table, company);
        if (!row) break;
        this.update(rng, table, row, day);
        summary.add(table, 'updated');
        if (rng.chance(0.1)) {
          this.update(rng, table, row, day);
          summary.add(table, 'updated');
        }
      }
    }
    // A late change to a record nobody touched for months.
    const old = this.randomRow(rng, 'FCHACC', company, (r) => (r.LMDT ?? '0') < addDays(day, -90));
    if (old) {
      this.update(rng, 'FCHACC', old, day);
      summary.add('FCHACC', 'updated');
    }

    // New purchase orders with lines.
    const suppliers = this.partition('CIDMAS', company).rows();
    const newOrders = Math.max(1, Math.round(volume.purchaseOrders * 0.02));
    for (let i = 0; i < newOrders && suppliers.length > 0; i++) {
      const head = this.data.buildOrderHead(rng, company, this.nextPuno(company), rng.pick(suppliers), day);
      const lines: M3Row[] = [];
      const count = rng.between(1, Math.max(1, 2 * volume.linesPerOrder - 1));
      for (let l = 1; l <= count; l++) lines.push(this.data.buildOrderLine(rng, head, l * 10, 0, day));
      this.data.finishOrder(head, lines);
      insert('MPHEAD', head);
      for (const line of lines) insert('MPLINE', line);
    }

    // New supplier invoices: batch rows, ledger entry and GL voucher.
    const newInvoices = Math.max(1, Math.round(volume.invoices * 0.02));
    for (let i = 0; i < newInvoices && suppliers.length > 0; i++) {
      const head = rng.chance(0.6) ? this.randomRow(rng, 'MPHEAD', company) : undefined;
      const order = head ? { head, lines: [...this.partition('MPLINE', company).scan(this.orderPrefix(head.PUNO as string))] } : null;
      const supplier = (head && this.partition('CIDMAS', company).get(keySegment(fieldOf(tableDef('CIDMAS'), 'SUNO'), head.SUNO as string))) || rng.pick(suppliers);
      const invoice = this.data.buildInvoice(rng, company, supplier, order, day);
      if (invoice.head) insert('FAPIBH', invoice.head);
      for (const line of invoice.lines) insert('FAPIBL', line);
      if (invoice.ledger) insert('FPLEDG', invoice.ledger);
      for (const row of invoice.gl) insert('FGLEDG', row);
    }

    // Payments of open invoices: a new ledger row and a status change on the invoice entry.
    for (let i = 0; i < rng.between(1, 2); i++) {
      const invoice = this.randomRow(rng, 'FPLEDG', company, (r) => r.TRCD === '40' && r.PYST !== '9' && Number(r.CUAM) < 0);
      if (!invoice) break;
      const paid = this.paidSoFar(invoice);
      const open = -Math.round(Number(invoice.CUAM) * 100) - paid;
      if (open <= 0) continue;
      const cents = rng.chance(0.5) ? open : Math.max(1, Math.floor(open / 2));
      const { payment, gl } = this.data.buildPayment(rng, invoice, cents, day, day);
      insert('FPLEDG', payment);
      for (const row of gl) insert('FGLEDG', row);
      this.data.settleInvoice(invoice, paid + cents, day);
      this.data.touch(invoice, day, 'APS130');
      summary.add('FPLEDG', 'updated');
    }

    this.reverseAnInvoice(company, day, summary);

    // A manual GL voucher.
    const division = rng.pick(company.divisions);
    const accounts = this.accountsOf(company, division.divi);
    for (const row of this.data.buildGlVoucher(rng, company, division.divi, accounts, rng.between(2, 4), day)) insert('FGLEDG', row);

    // Master data: occasionally a new supplier, agreement or account.
    if (rng.chance(0.5)) insert('CIDMAS', this.buildSingleRow(rng, 'CIDMAS', company, day) as M3Row);
    if (rng.chance(0.3)) {
      const row = this.buildSingleRow(rng, 'MPAGRH', company, day);
      if (row) insert('MPAGRH', row);
    }
    if (rng.chance(0.1)) insert('FCHACC', this.buildSingleRow(rng, 'FCHACC', company, day) as M3Row);

    // Deletes: suppliers, agreements, accounts and purchase order lines disappear.
    if (rng.chance(0.3)) this.deleteRandom(rng, 'CIDMAS', company, summary);
    if (rng.chance(0.3)) this.deleteRandom(rng, 'MPAGRH', company, summary);
    if (rng.chance(0.2)) this.deleteRandom(rng, 'FCHACC', company, summary);
    for (let i = rng.between(1, 2); i > 0; i--) this.deleteRandom(rng, 'MPLINE', company, summary);

    // What no LMDT window shows (knobs): changes without a new stamp, and physical deletes. Their own random
    // stream, so that turning them on leaves the rest of the day as it was.
    const hidden = this.hiddenChanges();
    if (hidden.silentChangesPerDay > 0 || hidden.deletesPerDay > 0) {
      const rngHidden = Rng.for(this.data.seed, 'hidden', day, company.cono);
      for (const table of INCREMENTAL_TABLES) {
        for (let i = 0; i < hidden.silentChangesPerDay; i++) {
          const row = this.randomRow(rngHidden, table, company);
          if (!row) break;
          if (this.changeSilently(rngHidden, table, row, day)) summary.add(table, 'silentlyChanged');
        }
        for (let i = 0; i < hidden.deletesPerDay; i++) this.deleteRandom(rngHidden, table, company, summary);
      }
    }
  }

  /**
   * Now and then an unpaid invoice is reversed: opposite AP entries and GL lines under a new journal (M3 never
   * deletes posted ledger rows). Drawn from a stream of its own, so the rest of the day is unchanged.
   */
  private reverseAnInvoice(company: CompanyInfo, day: string, summary: SummaryBuilder): void {
    const rng = Rng.for(this.data.seed, 'reversal', day, company.cono);
    if (!rng.chance(0.5)) return;
    const invoice = this.randomRow(rng, 'FPLEDG', company, (r) => r.TRCD === '40' && r.JSNO === '1' && r.PYST === '1' && Number(r.CUAM) < 0 && this.paidSoFar(r) === 0);
    if (!invoice) return;
    const journal = this.journalPrefix('FPLEDG', invoice);
    const instalments = [...this.partition('FPLEDG', company).scan(journal)].filter((r) => r.TRCD === '40');
    const gl = [...this.partition('FGLEDG', company).scan(this.journalPrefix('FGLEDG', invoice))];
    const reversal = this.data.buildReversal(rng, instalments, gl, day);
    for (const row of instalments) {
      this.data.touch(row, day, 'APS110');
      summary.add('FPLEDG', 'updated');
    }
    for (const row of reversal.ledger) {
      this.data.db.table('FPLEDG').insert(row);
      summary.add('FPLEDG', 'inserted');
    }
    for (const row of reversal.gl) {
      this.data.db.table('FGLEDG').insert(row);
      summary.add('FGLEDG', 'inserted');
    }
  }

  /** The key prefix of one journal (DIVI, YEA4, JRNO) in FPLEDG or FGLEDG. */
  private journalPrefix(table: 'FPLEDG' | 'FGLEDG', row: M3Row): string {
    const def = tableDef(table);
    return (['DIVI', 'YEA4', 'JRNO'] as const).map((f) => keySegment(fieldOf(def, f), row[f] as string)).join('');
  }

  /** Cents already paid on an invoice: its TRCD 50 rows share payee, supplier, invoice number and year. */
  private paidSoFar(invoice: M3Row): number {
    let cents = 0;
    for (const row of this.data.partition('FPLEDG', invoice.CONO as string).rows()) {
      if (row.TRCD === '50' && row.SPYN === invoice.SPYN && row.SUNO === invoice.SUNO && row.SINO === invoice.SINO && row.INYR === invoice.INYR) {
        cents += Math.round(Number(row.CUAM) * 100);
      }
    }
    return cents;
  }

  // --- single-row operations ----------------------------------------------------------------------

  private updateRandom(rng: Rng, table: MutableTable, company: CompanyInfo, day: string): boolean {
    const row = this.randomRow(rng, table, company);
    if (!row) return false;
    this.update(rng, table, row, day);
    return true;
  }

  /** An update that leaves the change fields alone and really changes a value (a few tries); false if none did. */
  private changeSilently(rng: Rng, table: MutableTable, row: M3Row, day: string): boolean {
    const before = JSON.stringify(row);
    for (let attempt = 0; attempt < 5; attempt++) {
      this.update(rng, table, row, day, { silent: true });
      if (JSON.stringify(row) !== before) return true;
    }
    return false;
  }

  /** Changes a few non-key fields of a row and stamps the change (unless silent: LMDT, CHNO and LMTS stay). */
  private update(rng: Rng, table: MutableTable, row: M3Row, day: string, options: { silent?: boolean } = {}): void {
    switch (table) {
      case 'CIDMAS':
        if (rng.chance(0.5)) row.PHNO = `+${rng.between(1, 89)} ${rng.between(10, 99)}-${rng.between(100000, 999999)}`;
        else row.STAT = row.STAT === '20' ? '90' : '20';
        break;
      case 'FCHACC':
        if (rng.chance(0.5)) row.TX40 = `${row.AITM} ${rng.pick(['Updated; text', 'Neu | Konto', 'Renamed "acct"', '科目更新'])}`.slice(0, 40);
        else row.LCCD = row.LCCD === '1' ? '0' : '1';
        break;
      case 'MPAGRH':
        row.UVDT = addDays(day, rng.between(30, 400));
        row.PAST = rng.pick(['20', '40', '90']);
        break;
      case 'MPHEAD':
        row.PUST = rng.pick(['35', '45', '50', '75', '85']);
        row.DWDT = addDays(day, rng.between(1, 30));
        break;
      case 'MPLINE':
        if (rng.chance(0.6)) {
          row.RVQA = row.ORQA ?? '0';
          row.RCDT = day;
          row.PUST = '50';
        } else {
          const price6 = rng.between(50, 250_000) * 10_000;
          row.PUPR = formatScaled(price6, 6);
          const qty6 = BigInt(Math.round(Number(row.ORQA ?? '0') * 1_000_000));
          row.LNAM = formatScaled((qty6 * BigInt(price6)) / 10_000_000_000n, 2);
        }
        break;
      case 'FAPIBH':
        row.SUPA = rng.pick(['10', '50', '90']);
        row.APCD = rng.pick(USERS);
        break;
      case 'FAPIBL':
        row.AIT2 = `CC${rng.between(1, 3)}00`;
        break;
      case 'FPLEDG':
        // Unstamped: the internal reconciliation mark (RECO, REDE: read by the catalog, no amount) as a matching job
        // sets it beside its ledger postings. Stamped: a payment stop (IVBL) set or lifted.
        if (options.silent) {
          row.REDE = row.RECO === '9' && row.REDE !== day ? day : row.RECO === '9' ? '0' : day;
          row.RECO = row.REDE === '0' ? '0' : '9';
        } else row.IVBL = row.IVBL === '1' ? '0' : '1';
        break;
      case 'FGLEDG':
        // Stamped or not (a voucher text corrected by a batch job), never an amount: vouchers stay balanced.
        row.VTXT = rng.pick(['Corrected; text', 'Korrigiert | Müller', 'Adj. "Q4"', '更正']);
        break;
    }
    if (options.silent) return;
    this.data.touch(row, day, rng.pick(USERS));
  }

  /** One new row of a table, or undefined when it needs a parent that does not exist. */
  private buildSingleRow(rng: Rng, table: MutableTable, company: CompanyInfo, day: string): M3Row | undefined {
    const anySupplier = () => this.randomRow(rng, 'CIDMAS', company);
    switch (table) {
      case 'CIDMAS':
        return this.data.buildSupplier(rng, company, this.nextSuno(company), day);
      case 'FCHACC': {
        const division = rng.pick(company.divisions);
        const existing = this.partition('FCHACC', company);
        let aitm = '';
        do aitm = String(rng.between(100_000, 999_999));
        while (existing.has(this.accountKey(division.divi, aitm)));
        return this.data.buildAccount(rng, company, division.divi, 1, aitm, day);
      }
      case 'MPAGRH': {
        const supplier = anySupplier();
        if (!supplier) return undefined;
        const agnb = `AG${String(this.data.next('AGNB', company.cono)).padStart(5, '0')}`;
        return this.data.buildAgreement(rng, company, supplier.SUNO as string, agnb, day);
      }
      case 'MPHEAD': {
        const supplier = anySupplier();
        if (!supplier) return undefined;
        const head = this.data.buildOrderHead(rng, company, this.nextPuno(company), supplier, day);
        this.data.finishOrder(head, []);
        return head;
      }
      case 'MPLINE': {
        const head = this.randomRow(rng, 'MPHEAD', company);
        if (!head) return undefined;
        const lines = [...this.partition('MPLINE', company).scan(this.orderPrefix(head.PUNO as string))];
        const lastLine = lines.reduce((max, l) => Math.max(max, Number(l.PNLI)), 0);
        if (lastLine + 10 > 99_999) return undefined;
        return this.data.buildOrderLine(rng, head, lastLine + 10, 0, day);
      }
      case 'FAPIBH': {
        const supplier = anySupplier();
        if (!supplier) return undefined;
        return this.data.buildInvoice(rng, company, supplier, null, day, { posted: false, batch: true }).head ?? undefined;
      }
      case 'FAPIBL': {
        const head = this.randomRow(rng, 'FAPIBH', company);
        if (!head) return undefined;
        const def = tableDef('FAPIBH');
        const prefix = keySegment(fieldOf(def, 'DIVI'), head.DIVI as string) + keySegment(fieldOf(def, 'INBN'), head.INBN as string);
        const lines = [...this.partition('FAPIBL', company).scan(prefix)];
        const trno = lines.reduce((max, l) => Math.max(max, Number(l.TRNO)), 0) + 1;
        const line = this.data.buildInvoiceLine(rng, trno, rng.between(-50_000, 2_500_000));
        return { ...line, CONO: company.cono, DIVI: head.DIVI as string, INBN: head.INBN as string, ...this.data.freshAudit(day, rng.pick(USERS)) };
      }
      case 'FPLEDG': {
        const invoice = this.randomRow(rng, 'FPLEDG', company, (r) => r.TRCD === '40' && Number(r.CUAM) < 0);
        if (invoice) {
          const open = -Math.round(Number(invoice.CUAM) * 100);
          return this.data.buildPayment(rng, invoice, Math.max(1, Math.floor(open / 3)), day, day).payment;
        }
        const supplier = anySupplier();
        if (!supplier) return undefined;
        return this.data.buildInvoice(rng, company, supplier, null, day, { posted: true, batch: false }).ledger ?? undefined;
      }
      case 'FGLEDG': {
        const division = rng.pick(company.divisions);
        return this.data.buildGlVoucher(rng, company, division.divi, this.accountsOf(company, division.divi), 1, day)[0];
      }
    }
  }

  private deleteRandom(rng: Rng, table: MutableTable, company: CompanyInfo, summary: SummaryBuilder): void {
    const row = this.randomRow(rng, table, company);
    if (!row) return;
    this.data.db.table(table).delete(row);
    summary.add(table, 'deleted');
    // Deleting a head deletes its lines, as M3 does.
    if (table === 'MPHEAD') {
      for (const line of [...this.partition('MPLINE', company).scan(this.orderPrefix(row.PUNO as string))]) {
        this.data.db.table('MPLINE').delete(line);
        summary.add('MPLINE', 'deleted');
      }
    }
    if (table === 'FAPIBH') {
      const def = tableDef('FAPIBH');
      const prefix = keySegment(fieldOf(def, 'DIVI'), row.DIVI as string) + keySegment(fieldOf(def, 'INBN'), row.INBN as string);
      for (const line of [...this.partition('FAPIBL', company).scan(prefix)]) {
        this.data.db.table('FAPIBL').delete(line);
        summary.add('FAPIBL', 'deleted');
      }
    }
  }

  // --- keys ---------------------------------------------------------------------------------------

  private orderPrefix(puno: string): string {
    return keySegment(fieldOf(tableDef('MPLINE'), 'PUNO'), puno);
  }

  private accountKey(divi: string, aitm: string): string {
    const def: TableDef = tableDef('FCHACC');
    return keySegment(fieldOf(def, 'DIVI'), divi) + keySegment(fieldOf(def, 'AITP'), '1') + keySegment(fieldOf(def, 'AITM'), aitm);
  }

  private accountsOf(company: CompanyInfo, divi: string): string[] {
    const def = tableDef('FCHACC');
    const prefix = keySegment(fieldOf(def, 'DIVI'), divi) + keySegment(fieldOf(def, 'AITP'), '1');
    const accounts = [...this.partition('FCHACC', company).scan(prefix)].map((r) => r.AITM as string);
    return accounts.length > 0 ? accounts : ['4010'];
  }

  private nextSuno(company: CompanyInfo): string {
    const existing = this.partition('CIDMAS', company);
    const field = fieldOf(tableDef('CIDMAS'), 'SUNO');
    let suno: string;
    do suno = `S${String(this.data.next('SUNO', company.cono)).padStart(5, '0')}`;
    while (existing.has(keySegment(field, suno)));
    return suno;
  }

  private nextPuno(company: CompanyInfo): string {
    const existing = this.partition('MPHEAD', company);
    const field = fieldOf(tableDef('MPHEAD'), 'PUNO');
    let puno: string;
    do puno = String(1_000_000_000 + this.data.next('PUNO', company.cono) * 10);
    while (existing.has(keySegment(field, puno)));
    return puno;
  }
}
