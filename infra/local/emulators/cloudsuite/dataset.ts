// Seeded generation of the emulated tenant: companies, divisions, suppliers, accounts, agreements,
// purchase orders, supplier invoices, AP and GL ledgers. The builders here are also what the clock
// and mutate() use to insert new records, so new data looks exactly like seeded data.
import { Rng } from './prng.ts';
import { Database, type Partition } from './store.ts';
import type { M3Row, Volume } from './types.ts';
import { addDays, dayNumber, formatScaled } from './values.ts';

export interface DivisionInfo {
  divi: string;
  name: string;
  shortName: string;
  facility: string;
  facilityName: string;
  warehouse: string;
  warehouseName: string;
}

export interface CompanyInfo {
  cono: string;
  name: string;
  currency: string;
  country: string;
  language: string;
  divisions: DivisionInfo[];
}

export interface ServiceUser {
  usid: string;
  name: string;
  language: string;
  dateFormat: string;
  decimalFormat: string;
  timeZone: string;
  email: string;
}

export interface DatasetConfig {
  seed: number;
  volume: Volume;
  /** The emulator's first "today" (yyyymmdd); seeded changes all lie before it. */
  startDate: string;
}

/** The standard change columns of one record. */
interface Audit {
  RGDT: string;
  RGTM: string;
  LMDT: string;
  CHNO: string;
  CHID: string;
  LMTS: string;
}

// --- reference data ---------------------------------------------------------------------------------

/** Units of one SEK, to derive exchange rates between company and document currencies. */
const SEK_PER_UNIT: Record<string, number> = { SEK: 1, EUR: 11.234567, USD: 10.5531, GBP: 13.0975, CNY: 1.4812, JPY: 0.071234, NOK: 0.98 };
const CURRENCIES = Object.keys(SEK_PER_UNIT);

const COMPANY_PROFILES = [
  { name: 'ACME Nordic AB', currency: 'SEK', country: 'SE', language: 'SE' },
  { name: 'ACME Deutschland GmbH', currency: 'EUR', country: 'DE', language: 'DE' },
  { name: 'ACME (Shanghai) Co., Ltd.', currency: 'CNY', country: 'CN', language: 'ZH' },
  { name: 'ACME Americas Inc.', currency: 'USD', country: 'US', language: 'GB' },
];

/** Names exercising Unicode, quotes and every separator a client might pick (never a tab). */
const SPECIAL_SUPPLIER_NAMES = [
  'Åkerlund & Rausing AB',
  'Müller Maschinenbau GmbH',
  'Straßenbau Weiß KG',
  'Øresund Shipping A/S',
  '北京精密机械有限公司',
  '株式会社 東京部品',
  'Café "Le Nord" SARL',
  "O'Brien Industrial Supply",
  'Smith; Jones | Partners',
  'Tilde~Caret^Trading, Ltd',
  'Emoji Foods 🍕 Ltd',
  'Żółć Sp. z o.o.',
  'Ελληνικά Προϊόντα ΑΕ',
  'Nordic Paper  Oy',
  '  Indented Name Ltd',
  `Quote "Double" & 'Single'`,
];
const NAME_FIRST = ['Nordic', 'Global', 'Baltic', 'Alpine', 'Pacific', 'Central', 'United', 'Atlas', 'Polar', 'Rhein', 'Hansa', 'Orient'];
const NAME_CORE = ['Steel', 'Paper', 'Logistics', 'Components', 'Chemicals', 'Tools', 'Packaging', 'Electronics', 'Timber', 'Textiles', 'Foods', 'Freight'];
const NAME_SUFFIX = ['AB', 'GmbH', 'Ltd', 'Inc.', 'Oy', 'A/S', 'S.A.', 'KG', 'Co., Ltd.', 'B.V.'];
const STREETS = ['Storgatan 12', 'Hauptstraße 5', "Rue de l'Église 3", '中关村大街 27号', 'c/o "Lager" 4; Tor 2', 'Box 123 | Gate 4', 'Industrivägen 7', 'Via Roma 1, int. 3', 'Kungsgatan 44 ~ Plan 2', '1-2-3 Shibuya^B1'];
const TOWNS = ['Stockholm', 'München', 'Göteborg', 'Zürich', '北京', 'Malmö', 'Köln', 'São Paulo', 'Łódź', 'Tokyo'];
const COUNTRIES = ['SE', 'DE', 'FI', 'DK', 'CN', 'JP', 'GB', 'US', 'PL', 'FR'];
const LANGUAGES = ['SE', 'DE', 'GB', 'FI', 'ZH', 'JA'];
const PAYMENT_TERMS = ['30', '60', 'N10', '14', '45E'];
const PAYMENT_METHODS = ['BG', 'PG', 'SWI', 'CHQ', 'SEP'];
const BUYERS = ['ANNA', 'BJORN', 'CHEN', 'DIETER', 'EVA'];
const USERS = ['JSMITH', 'MBERG', 'AUTOJOB', 'LWANG', 'KMULLER', 'M3SRVSYNC'];
const ITEMS: [itno: string, name: string, unit: string][] = [
  ['BOLT-M8X40', 'Bolt M8x40 zinc', 'PCS'],
  ['BRG6204', 'Kugellager 6204-2RS', 'PCS'],
  ['PAP-A4-80', 'Paper A4 80g "premium"', 'BOX'],
  ['CBL-3X15', 'Cable 3x1,5mm²', 'M'],
  ['SCR-HEX-10', 'Screw; hex | 10 pcs', 'PKT'],
  ['TOOLSET-CN', '螺丝刀套装', 'SET'],
  ['PAL-EUR', 'Pallet EUR 1200×800', 'PCS'],
  ['MAN-OPR', "Operator's manual", 'PCS'],
  ['VLV-DN50', 'Valve ~DN50^', 'PCS'],
  ['GSK-60', 'Gasket Ø 60 mm', 'PCS'],
  ['OIL-HYD46', 'Hydraulic oil 46, 20 l', 'L'],
  ['SRV-CONSULT', 'Consulting hours', 'H'],
];
const ACCOUNT_TEXTS = ['Bank SEB | main', 'Accounts payable; trade', 'VAT "input" 25%', 'Inventory ~ raw material', 'Freight & duty', "Director's fees", 'Kostenstelle Müller', '办公用品', 'Travel ^ per diem', 'Rounding, öre', 'Rent, office', 'Consulting'];
const BASE_ACCOUNTS = ['1010', '1210', '1510', '1910', '1930', '2440', '2610', '2640', '2890', '3010', '3040', '4010', '4510', '5010', '5410', '5460', '5610', '5800', '6110', '6212', '6570', '7010', '7510', '7690', '8410', '8999'];
const VOUCHER_TEXTS = ['Accrual; November', 'Reclass | cost centre', 'Correction "FX"', 'Umbuchung Müller', 'Depreciation, IT', 'Payroll ~ bonus', '年终调整', 'Rent Q4 ^ office'];
const PO_STATUSES = ['15', '20', '35', '45', '50', '75', '85'];
const AP_ACCOUNT = '2440';
const VAT_ACCOUNT = '2640';
const BANK_ACCOUNT = '1930';

function divisionCodes(companyIndex: number): string[] {
  const letters = 'ACEGIKMOQSUWY';
  const first = letters[companyIndex % letters.length] as string;
  const second = String.fromCharCode(first.charCodeAt(0) + 1);
  return [`${first}01`, `${first}02`, `${second}10`];
}

/** Truncates to a field length in UTF-16 code units without splitting a surrogate pair. */
function fit(text: string, length: number): string {
  if (text.length <= length) return text;
  let cut = text.slice(0, length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replace(/ +$/, '');
}

function exchangeRate(documentCurrency: string, localCurrency: string): string {
  if (documentCurrency === localCurrency) return '1';
  const rate = (SEK_PER_UNIT[documentCurrency] ?? 1) / (SEK_PER_UNIT[localCurrency] ?? 1);
  return formatScaled(Math.round(rate * 1e6), 6);
}

/** Converts an amount in cents by a rate given as a 6-decimal string, rounded to cents. */
function convert(cents: number, rate: string): number {
  const [i = '0', f = ''] = rate.split('.');
  const rate6 = BigInt(i + f.padEnd(6, '0'));
  const scaled = BigInt(Math.round(cents)) * rate6;
  const half = scaled >= 0n ? 500000n : -500000n;
  return Number((scaled + half) / 1000000n);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Seconds of day → HHMMSS as 6 digits. */
function hhmmss(seconds: number): string {
  return `${pad(Math.floor(seconds / 3600), 2)}${pad(Math.floor((seconds % 3600) / 60), 2)}${pad(seconds % 60, 2)}`;
}

/**
 * Hands out change stamps for days the clock moves through. LMTS is yyyymmdd + HHMMSS + four digits
 * of sub-second (18 digits, beyond a JavaScript number's exact range); stamps on one day strictly
 * increase so several changes to one record on one day keep ordering.
 */
export class Stamper {
  /** Per day: ten-thousandths of a second since midnight of the last stamp. */
  private readonly last = new Map<string, number>();

  constructor(private readonly seed: number) {}

  stamp(day: string): { time: string; lmts: string } {
    const rng = Rng.for(this.seed, 'stamp', day, this.last.get(day) ?? -1);
    const previous = this.last.get(day) ?? 6 * 3600 * 10_000 + rng.int(3600 * 10_000);
    const next = Math.min(previous + 1 + rng.int(90 * 10_000), 86_399 * 10_000 + 9_999);
    this.last.set(day, next);
    const seconds = Math.floor(next / 10_000);
    const time = hhmmss(seconds);
    return { time, lmts: `${day}${time}${pad(next % 10_000, 4)}` };
  }
}

export class Dataset {
  readonly db = new Database();
  readonly companies: CompanyInfo[];
  readonly serviceUser: ServiceUser = {
    usid: 'M3SRVSYNC',
    name: 'Integration service user',
    language: 'GB',
    dateFormat: 'YMD',
    decimalFormat: '.',
    timeZone: 'UTC',
    email: 'm3srvsync@acme.example',
  };
  readonly stamper: Stamper;
  private readonly counters = new Map<string, number>();
  private readonly busyDays: string[];

  constructor(readonly config: DatasetConfig) {
    this.stamper = new Stamper(config.seed);
    this.companies = config.volume.companies.map((cono, index) => this.companyInfo(cono, index));
    const rng = Rng.for(config.seed, 'busy-days');
    // Month-end closes, migrations and mass updates put many changes on a few days.
    this.busyDays = [1, 2, 7, rng.between(20, 35), rng.between(40, 60), rng.between(61, 89)].map((d) =>
      addDays(config.startDate, -d),
    );
    this.generate();
  }

  get seed(): number {
    return this.config.seed;
  }

  company(cono: string): CompanyInfo | undefined {
    return this.companies.find((c) => c.cono === cono);
  }

  partition(table: string, cono: string): Partition {
    return this.db.table(table).partition(cono);
  }

  private companyInfo(cono: string, index: number): CompanyInfo {
    const profile = COMPANY_PROFILES[index % COMPANY_PROFILES.length] as (typeof COMPANY_PROFILES)[number];
    const name = index < COMPANY_PROFILES.length ? profile.name : `${profile.name} ${cono}`;
    const divisions = divisionCodes(index).map((divi, i) => ({
      divi,
      name: fit(`${name} – ${['Operations', 'Services', 'Projects'][i]}`, 36),
      shortName: ['Operations', 'Services', 'Projects'][i] as string,
      facility: `F${divi.slice(1)}`,
      facilityName: `Facility ${divi}`,
      warehouse: `W${divi.slice(1)}`,
      warehouseName: `Main warehouse ${divi}`,
    }));
    return { cono, name, currency: profile.currency, country: profile.country, language: profile.language, divisions };
  }

  // --- ids ----------------------------------------------------------------------------------------

  /** The next number of a sequence, e.g. next('PUNO', '100'). */
  next(...labels: string[]): number {
    const id = labels.join('|');
    const n = (this.counters.get(id) ?? 0) + 1;
    this.counters.set(id, n);
    return n;
  }

  // --- audit columns ------------------------------------------------------------------------------

  /** Change columns of a seeded record: changed within ~90 days (many on a few busy days) or long ago. */
  historicAudit(rng: Rng, registered?: string): Audit {
    const start = this.config.startDate;
    let lmdt: string;
    const roll = rng.next();
    if (roll < 0.15) lmdt = addDays(start, -rng.between(91, 700));
    else if (roll < 0.5) lmdt = rng.pick(this.busyDays);
    else lmdt = addDays(start, -rng.between(1, 90));
    let rgdt = registered ?? (rng.chance(0.3) ? lmdt : addDays(lmdt, -rng.between(1, 400)));
    if (dayNumber(rgdt) >= dayNumber(start)) rgdt = addDays(start, -1);
    if (dayNumber(lmdt) < dayNumber(rgdt)) lmdt = rgdt;
    const seconds = rng.between(6 * 3600, 20 * 3600);
    const time = hhmmss(seconds);
    const chno = lmdt === rgdt ? rng.between(1, 3) : rng.between(2, 12);
    return {
      RGDT: rgdt,
      RGTM: String(Number(hhmmss(rng.between(6 * 3600, 20 * 3600)))),
      LMDT: lmdt,
      CHNO: String(chno),
      CHID: rng.pick(USERS),
      LMTS: `${lmdt}${time}${pad(rng.int(10_000), 4)}`,
    };
  }

  /** Change columns of a record created on a day the clock moved to. */
  freshAudit(day: string, user = 'AUTOJOB'): Audit {
    const { time, lmts } = this.stamper.stamp(day);
    return { RGDT: day, RGTM: String(Number(time)), LMDT: day, CHNO: '1', CHID: user, LMTS: lmts };
  }

  /** How much CHNO grows per change (the chnoStep knob; the emulator wires it). */
  chnoStep: () => number = () => 1;

  /** Applies a change: CHNO + 1 (N3: after 999 it wraps, as in M3), LMDT the day, a later LMTS. */
  touch(row: M3Row, day: string, user: string): void {
    const { lmts } = this.stamper.stamp(day);
    row.LMDT = day;
    row.CHNO = nextChangeNumber(row.CHNO, this.chnoStep());
    row.CHID = user;
    row.LMTS = lmts;
  }

  private audit(rng: Rng, day: string | null, registered?: string): Audit {
    return day === null ? this.historicAudit(rng, registered) : this.freshAudit(day, rng.pick(USERS));
  }

  // --- builders -----------------------------------------------------------------------------------

  /** A supplier. `special` picks one of the edge-case names. */
  buildSupplier(rng: Rng, company: CompanyInfo, suno: string, day: string | null, special?: number): M3Row {
    const name = special !== undefined ? (SPECIAL_SUPPLIER_NAMES[special] as string) : `${rng.pick(NAME_FIRST)} ${rng.pick(NAME_CORE)} ${rng.pick(NAME_SUFFIX)}`;
    const currency = rng.chance(0.6) ? company.currency : rng.pick(CURRENCIES);
    const country = rng.chance(0.5) ? company.country : rng.pick(COUNTRIES);
    const row: M3Row = {
      CONO: company.cono,
      SUNO: suno,
      SUNM: fit(name, 36),
      SUTY: String(rng.between(0, 4)),
      STAT: rng.chance(0.9) ? '20' : rng.pick(['10', '90']),
      ALSU: fit(name.trim().toUpperCase().replace(/[^A-Z0-9]/g, ''), 10),
      CSCD: country,
      ECAR: rng.chance(0.3) ? rng.pick(['AB', 'BY', 'NW', 'CA']) : '',
      LNCD: rng.pick(LANGUAGES),
      PHNO: `+${rng.between(1, 89)} ${rng.between(10, 99)}-${rng.between(100000, 999999)}`,
      SUA1: fit(name, 36),
      SUA2: rng.pick(STREETS),
      SUA3: rng.chance(0.3) ? `Postfach ${rng.between(1, 9999)}` : '',
      TOWN: rng.pick(TOWNS),
      PONO: String(rng.between(10000, 99999)),
      CUCD: currency,
      TEPY: rng.pick(PAYMENT_TERMS),
      PYME: rng.pick(PAYMENT_METHODS),
      SUCL: rng.pick(['RAW', 'SRV', 'PKG', 'IT']),
      BUYE: rng.pick(BUYERS),
      VTCD: String(rng.pick([0, 1, 2, 25])),
      CRTP: '1',
      LIDT: rng.chance(0.25) ? '0' : addDays(this.config.startDate, -rng.between(1, 200)),
      TXAP: String(rng.between(0, 1)),
      ...this.audit(rng, day),
    };
    if (rng.chance(0.5)) row.VRNO = `${country}${rng.between(100000000, 999999999)}01`.slice(0, 16);
    if (rng.chance(0.3)) row.SUAL = `ALT${rng.between(1000, 9999)}`;
    if (rng.chance(0.4)) row.EMAL = fit(`ap.${suno.toLowerCase().replace(/[^a-z0-9]/g, '')}@supplier.example`, 60);
    if (rng.chance(0.2)) row.TFNO = `+${rng.between(1, 89)} ${rng.between(1000000, 9999999)}`;
    if (rng.chance(0.2)) row.CORG = String(rng.between(1000000000, 9999999999)).slice(0, 11);
    if (rng.chance(0.15)) row.CFI2 = formatScaled(rng.between(-500000, 5000000), 2);
    if (rng.chance(0.1)) row.PRSU = suno;
    if (rng.chance(0.3)) row.HOMP = `https://www.${suno.toLowerCase().replace(/[^a-z0-9]/g, '')}.example/?lang=sv;ref=a|b~c^d`;
    if (rng.chance(0.2)) row.YRE1 = fit(rng.pick(['Att: "Accounts"', "Kundnr. 4711; Müller", 'Ref | Frau Weiß', '联系人：王先生']), 36);
    return row;
  }

  buildAccount(rng: Rng, company: CompanyInfo, divi: string, aitp: number, aitm: string, day: string | null): M3Row {
    const text = aitp === 1 ? `${aitm} ${rng.pick(ACCOUNT_TEXTS)}` : `Cost centre ${aitm}`;
    const balance = aitp === 1 && /^[12]/.test(aitm);
    const row: M3Row = {
      CONO: company.cono,
      DIVI: divi,
      AITP: String(aitp),
      AITM: aitm,
      AICL: aitp === 1 ? `G${aitm.slice(0, 2)}` : '',
      TX40: fit(text, 40),
      TX15: fit(text, 15),
      AT01: balance ? '1' : '0',
      AT02: aitp === 1 && !balance ? '1' : '0',
      AT11: aitm === AP_ACCOUNT ? '1' : '0',
      AT12: aitm === BANK_ACCOUNT ? '1' : '0',
      LCCD: rng.chance(0.05) ? '1' : '0',
      VFDT: rng.chance(0.7) ? '20200101' : '0',
      VTDT: rng.chance(0.05) ? addDays(this.config.startDate, rng.between(-300, 300)) : '0',
      RESP: rng.pick(USERS),
      ...this.audit(rng, day),
    };
    return row;
  }

  buildAgreement(rng: Rng, company: CompanyInfo, suno: string, agnb: string, day: string | null): M3Row {
    const from = addDays(this.config.startDate, -rng.between(30, 900));
    return {
      CONO: company.cono,
      SUNO: suno,
      AGNB: agnb,
      AGTP: rng.pick(['STD', 'FRM', 'SPL']),
      FVDT: from,
      UVDT: rng.chance(0.3) ? '0' : addDays(from, rng.between(180, 1100)),
      PAST: rng.pick(['20', '40', '40', '90']),
      TX30: fit(rng.pick(['Frame agreement 2026', 'Prices "net", DAP', 'Rabattavtal; Q1 | Q2', 'Rahmenvertrag Müller', '年度协议']), 30),
      VAGN: `V-${rng.between(1000, 99999)}`,
      FACI: rng.pick(company.divisions).facility,
      CUCD: rng.chance(0.7) ? company.currency : rng.pick(CURRENCIES),
      ...this.audit(rng, day),
    };
  }

  /** A purchase order head; its amounts are completed by `finishOrder` once lines exist. */
  buildOrderHead(rng: Rng, company: CompanyInfo, puno: string, supplier: M3Row, day: string | null): M3Row {
    const division = rng.pick(company.divisions);
    const audit = this.audit(rng, day);
    const currency = supplier.CUCD ?? company.currency;
    const status = rng.pick(PO_STATUSES);
    return {
      CONO: company.cono,
      DIVI: division.divi,
      PUNO: puno,
      SUNO: supplier.SUNO as string,
      PUDT: audit.RGDT,
      DWDT: addDays(audit.RGDT, rng.between(3, 45)),
      LEDT: rng.chance(0.6) ? audit.RGDT : '0',
      DONR: '100',
      DOVA: '01',
      RESP: audit.CHID,
      CSCD: supplier.CSCD ?? company.country,
      BUYE: rng.pick(BUYERS),
      CUCD: currency,
      YRE1: fit(rng.pick(['Your ref: Anna "AB"', 'Ref; 4711 | urgent', "Ordre d'achat n°12", '', 'Müller ~ Projekt^7', '请尽快交货']), 36),
      FACI: division.facility,
      WHLO: division.warehouse,
      ORTY: rng.pick(['PO1', 'PO2', 'SRV']),
      LNCD: supplier.LNCD ?? company.language,
      TEPY: supplier.TEPY ?? '30',
      MODL: rng.pick(['TRK', 'AIR', 'SEA']),
      TEDL: rng.pick(['DAP', 'EXW', 'FCA']),
      POTC: '10',
      OURR: rng.chance(0.5) ? `R${rng.between(10000, 99999)}` : '',
      PUSL: rng.chance(0.7) ? status : '15',
      PUST: status,
      LOCD: company.currency,
      ARAT: exchangeRate(currency, company.currency),
      ...audit,
    };
  }

  /** A purchase order line with a realistic quantity, price and receipt status. */
  buildOrderLine(rng: Rng, head: M3Row, pnli: number, pnls: number, day: string | null): M3Row {
    const [itno, name, unit] = rng.pick(ITEMS);
    const qty6 = rng.chance(0.8) ? rng.between(1, 500) * 1_000_000 : rng.pick([333_333, 12_500_000, 1_250_000, 2_750_000]);
    const price6 = rng.chance(0.9) ? rng.between(50, 250_000) * 10_000 : rng.between(1, 9_999_999);
    const cents = Number((BigInt(qty6) * BigInt(price6)) / 10_000_000_000n);
    const status = rng.pick(PO_STATUSES.filter((s) => s <= (head.PUST ?? '85')));
    const received = Number(status) >= 50;
    const row: M3Row = {
      CONO: head.CONO as string,
      DIVI: head.DIVI as string,
      PUNO: head.PUNO as string,
      PNLI: String(pnli),
      PNLS: String(pnls),
      ITNO: itno,
      ITDS: name,
      PITD: name,
      PUUN: unit,
      PPUN: unit,
      UNMS: unit,
      FACI: head.FACI as string,
      WHLO: head.WHLO as string,
      POTC: '10',
      SUNO: head.SUNO as string,
      PUPR: formatScaled(price6, 6),
      LNAM: formatScaled(cents, 2),
      DWDT: head.DWDT as string,
      ORQA: formatScaled(qty6, 6),
      ORQT: formatScaled(qty6, 6),
      // Not received yet: MI answers an empty numeric rather than 0.
      RVQA: received ? formatScaled(rng.chance(0.8) ? qty6 : Math.floor(qty6 / 2), 6) : '',
      RCDT: received ? addDays(head.PUDT as string, rng.between(1, 20)) : '0',
      CFQA: rng.chance(0.7) ? formatScaled(qty6, 6) : '',
      PUSL: status,
      PUST: status,
      BUYE: head.BUYE as string,
      VTCD: '1',
      LOCD: head.LOCD as string,
      SAAM: formatScaled(convert(cents, head.ARAT ?? '1'), 2),
      ...this.audit(rng, day, day === null ? (head.RGDT as string) : undefined),
    };
    if (rng.chance(0.2)) row.PITT = fit(`${name} – spec. rev ${rng.between(1, 9)}; see "drawing" | ${itno}`, 60);
    if (rng.chance(0.1)) row.SITE = `SUP-${itno}`;
    return row;
  }

  /** Sums line amounts into the head (net, gross, total quantity). */
  finishOrder(head: M3Row, lines: M3Row[]): void {
    let cents = 0n;
    let qty = 0n;
    for (const line of lines) {
      cents += toScaled(line.LNAM ?? '0', 2);
      qty += toScaled(line.ORQA ?? '0', 6);
    }
    const amount = formatScaled(cents, 2);
    head.LNAM = amount;
    head.NTAM = amount;
    head.BRAM = amount;
    head.COAM = amount;
    head.TOQT = formatScaled(qty, 6);
    head.SAAM = formatScaled(convert(Number(cents), head.ARAT ?? '1'), 2);
  }

  /**
   * A supplier invoice: the batch head and lines (FAPIBH/FAPIBL) when it came through the batch
   * interface, and when posted the AP ledger entry (FPLEDG TRCD 40) with its GL voucher lines.
   */
  buildInvoice(
    rng: Rng,
    company: CompanyInfo,
    supplier: M3Row,
    order: { head: M3Row; lines: M3Row[] } | null,
    day: string | null,
    options: { netCents?: number; posted?: boolean; batch?: boolean } = {},
  ): { head: M3Row | null; lines: M3Row[]; ledger: M3Row | null; gl: M3Row[] } {
    const division = order ? (company.divisions.find((d) => d.divi === order.head.DIVI) ?? company.divisions[0]!) : rng.pick(company.divisions);
    const ivdt = day ?? addDays(this.config.startDate, -rng.between(1, 150));
    const acdt = day ?? addDays(ivdt, rng.between(0, 3));
    const currency = order ? (order.head.CUCD as string) : (supplier.CUCD ?? company.currency);
    const rate = exchangeRate(currency, company.currency);
    const posted = options.posted ?? rng.chance(0.85);
    const batch = !posted || (options.batch ?? rng.chance(0.75));
    const sino = fit(
      rng.pick([
        `INV-${ivdt.slice(0, 4)}-${rng.between(1, 999999)}`,
        `R/${ivdt.slice(0, 4)};${rng.between(1, 9999)}`,
        `F'${rng.between(100, 99999)}`,
        String(rng.between(1, 99999999)),
        `№ ${rng.between(1, 9999)}`,
        `ÄÖ-${rng.between(1, 999)} | ${rng.between(1, 9)}`,
      ]),
      24,
    );

    // Lines first: their net amounts make the invoice.
    const lines: M3Row[] = [];
    const orderLines = order ? order.lines.slice(0, rng.between(1, 4)) : [];
    let netCents = 0;
    const lineCount = options.netCents !== undefined ? 1 : order ? orderLines.length : rng.between(1, 3);
    for (let i = 0; i < lineCount; i++) {
      const poLine = orderLines[i];
      const cents = options.netCents ?? (poLine ? Math.round(Number(poLine.LNAM) * 100) : rng.between(-50_000, 2_500_000));
      netCents += cents;
      lines.push(this.buildInvoiceLine(rng, i + 1, cents, poLine));
    }
    // Forced amounts are exact: no VAT on top.
    const vatCents = options.netCents === undefined && rng.chance(0.8) ? Math.round(netCents * 0.25) : 0;
    const grossCents = netCents + vatCents;

    let head: M3Row | null = null;
    if (batch) {
      const inbn = String(100000 + this.next('INBN', company.cono, division.divi));
      const audit = this.audit(rng, day, day === null ? ivdt : undefined);
      head = {
        CONO: company.cono,
        DIVI: division.divi,
        INBN: inbn,
        IBTP: grossCents < 0 ? '20' : '10',
        SUNO: supplier.SUNO as string,
        SPYN: (supplier.PRSU || supplier.SUNO) as string,
        SINO: sino,
        IVDT: ivdt,
        DUDT: addDays(ivdt, 30),
        ACDT: acdt,
        CUCD: currency,
        CRTP: '1',
        ARAT: rate,
        CUAM: formatScaled(grossCents, 2),
        VTAM: formatScaled(vatCents, 2),
        TEPY: supplier.TEPY ?? '30',
        PYME: supplier.PYME ?? 'BG',
        SUPA: posted ? '90' : rng.pick(['10', '50']),
        PUNO: order ? (order.head.PUNO as string) : '',
        APCD: rng.pick(BUYERS),
        TX40: fit(`${supplier.SUNM ?? ''} ${sino}`, 40),
        ...audit,
      };
      for (const line of lines) {
        Object.assign(line, { CONO: company.cono, DIVI: division.divi, INBN: inbn }, this.audit(rng, day, day === null ? audit.RGDT : undefined));
      }
    }

    let ledger: M3Row | null = null;
    const gl: M3Row[] = [];
    if (posted) {
      const year = acdt.slice(0, 4);
      const jrno = String(this.next('JRNO', company.cono, division.divi, year));
      const vono = String(this.next('VONO', company.cono, division.divi, year, 'AP'));
      const audit = this.audit(rng, day, day === null ? acdt : undefined);
      ledger = {
        CONO: company.cono,
        DIVI: division.divi,
        YEA4: year,
        JRNO: jrno,
        JSNO: '1',
        TRCD: '40',
        SPYN: (supplier.PRSU || supplier.SUNO) as string,
        SUNO: supplier.SUNO as string,
        SINO: sino,
        INYR: ivdt.slice(0, 4),
        VSER: 'AP',
        VONO: vono,
        IVTP: 'IN',
        SUCL: supplier.SUCL ?? '',
        CUCD: currency,
        CRTP: '1',
        ARAT: rate,
        // Supplier invoices are credits in the AP ledger.
        CUAM: formatScaled(-grossCents, 2),
        VTAM: formatScaled(-vatCents, 2),
        IVDT: ivdt,
        DUDT: addDays(ivdt, 30),
        ACDT: acdt,
        PYME: supplier.PYME ?? 'BG',
        TEPY: supplier.TEPY ?? '30',
        PYST: '1',
        REDE: '0',
        ENME: batch ? '2' : '1',
        ...audit,
      };
      const voucher = (jsno: number, account: string, cents: number, text: string): M3Row => ({
        CONO: company.cono,
        DIVI: division.divi,
        YEA4: year,
        JRNO: jrno,
        JSNO: String(jsno),
        TRCD: '40',
        ACDT: acdt,
        AIT1: account,
        ACAM: formatScaled(convert(cents, rate), 2),
        CUAM: formatScaled(cents, 2),
        CUCD: currency,
        ARAT: rate,
        VTXT: fit(text, 40),
        VSER: 'AP',
        VONO: vono,
        FEID: 'APS1',
        ...this.audit(rng, day, day === null ? acdt : undefined),
      });
      const apLine = voucher(2, AP_ACCOUNT, -grossCents, `${supplier.SUNO} ${sino}`);
      const costLine = voucher(3, lines[0]?.AIT1 ?? '4010', netCents, `${supplier.SUNM ?? ''}`.trim());
      const vatLine = vatCents !== 0 ? voucher(4, VAT_ACCOUNT, vatCents, 'VAT "input"') : null;
      // Lines converted one by one can miss each other by a cent; M3 books the difference so the voucher
      // balances in local currency: here on the cost line, so the AP line stays the ledger amount converted.
      const localOf = (row: M3Row | null) => (row ? toScaled(row.ACAM as string, 2) : 0n);
      costLine.ACAM = formatScaled(-localOf(apLine) - localOf(vatLine), 2);
      gl.push(apLine, costLine, ...(vatLine ? [vatLine] : []));
    }
    return { head, lines: batch ? lines : [], ledger, gl };
  }

  /**
   * The values of one invoice line: a purchase order line (RDTP 1) or a cost line (RDTP 8). The
   * caller adds CONO/DIVI/INBN and the change columns.
   */
  buildInvoiceLine(rng: Rng, trno: number, cents: number, poLine?: M3Row): M3Row {
    const line: M3Row = {
      TRNO: String(trno),
      RDTP: poLine ? '1' : '8',
      NLAM: formatScaled(cents, 2),
      // Cost lines carry no quantity: MI shows an empty numeric.
      IVQA: poLine ? (poLine.ORQA as string) : '',
      AIT1: poLine ? '4010' : rng.pick(['5410', '5460', '6110', '6212', '6570']),
      AIT2: rng.chance(0.5) ? `CC${rng.between(1, 3)}00` : '',
      VTCD: '1',
      TX40: fit(poLine ? (poLine.PITD as string) : rng.pick(ACCOUNT_TEXTS), 40),
    };
    if (poLine) {
      line.PUNO = poLine.PUNO as string;
      line.PNLI = poLine.PNLI as string;
      line.PNLS = poLine.PNLS as string;
      line.ITNO = poLine.ITNO as string;
      line.PUPR = poLine.PUPR as string;
    }
    return line;
  }

  /**
   * A payment (FPLEDG TRCD 50) of part of a posted invoice: same payee, supplier, invoice number
   * and year as the invoice, its own journal and voucher. Updates the invoice's payment status.
   */
  buildPayment(rng: Rng, invoice: M3Row, cents: number, paymentDate: string, day: string | null): { payment: M3Row; gl: M3Row[] } {
    const cono = invoice.CONO as string;
    const divi = invoice.DIVI as string;
    const year = paymentDate.slice(0, 4);
    const jrno = String(this.next('JRNO', cono, divi, year));
    const vono = String(this.next('VONO', cono, divi, year, 'PY'));
    const rate = invoice.ARAT ?? '1';
    const audit = this.audit(rng, day, day === null ? paymentDate : undefined);
    const payment: M3Row = {
      CONO: cono,
      DIVI: divi,
      YEA4: year,
      JRNO: jrno,
      JSNO: '1',
      TRCD: '50',
      SPYN: invoice.SPYN as string,
      SUNO: invoice.SUNO as string,
      SINO: invoice.SINO as string,
      INYR: invoice.INYR as string,
      VSER: 'PY',
      VONO: vono,
      IVTP: 'PY',
      CUCD: invoice.CUCD as string,
      CRTP: '1',
      ARAT: rate,
      CUAM: formatScaled(cents, 2),
      IVDT: invoice.IVDT as string,
      DUDT: invoice.DUDT as string,
      ACDT: paymentDate,
      PYME: invoice.PYME ?? 'BG',
      PYTP: 'PY',
      BKID: 'SEB01',
      PYST: '3',
      ENME: '3',
      ...audit,
    };
    const line = (jsno: number, account: string, amount: number): M3Row => ({
      CONO: cono,
      DIVI: divi,
      YEA4: year,
      JRNO: jrno,
      JSNO: String(jsno),
      TRCD: '50',
      ACDT: paymentDate,
      AIT1: account,
      ACAM: formatScaled(convert(amount, rate), 2),
      CUAM: formatScaled(amount, 2),
      CUCD: invoice.CUCD as string,
      ARAT: rate,
      VTXT: fit(`Payment ${invoice.SUNO} ${invoice.SINO}`, 40),
      VSER: 'PY',
      VONO: vono,
      FEID: 'APS2',
      ...this.audit(rng, day, day === null ? paymentDate : undefined),
    });
    return { payment, gl: [line(2, AP_ACCOUNT, cents), line(3, BANK_ACCOUNT, -cents)] };
  }

  /** Marks an invoice's ledger entry paid or partly paid after its payments. */
  settleInvoice(invoice: M3Row, paidCents: number, lastPaymentDate: string): void {
    const gross = -Math.round(Number(invoice.CUAM) * 100);
    const paid = paidCents >= gross;
    invoice.PYST = paid ? '9' : paidCents > 0 ? '2' : '1';
    invoice.RECO = paid ? '9' : '0';
    invoice.REDE = paid ? lastPaymentDate : '0';
  }

  /** A balanced manual GL voucher of `size` lines. */
  buildGlVoucher(rng: Rng, company: CompanyInfo, divi: string, accounts: string[], size: number, day: string | null, bigCents?: number): M3Row[] {
    const acdt = day ?? addDays(this.config.startDate, -rng.between(1, this.config.volume.glHistoryDays));
    const year = acdt.slice(0, 4);
    const jrno = String(this.next('JRNO', company.cono, divi, year));
    const vono = String(this.next('VONO', company.cono, divi, year, 'GL'));
    const audit = this.audit(rng, day, day === null ? acdt : undefined);
    const rows: M3Row[] = [];
    let balance = 0;
    for (let i = 0; i < size; i++) {
      const last = i === size - 1;
      // The last line balances the voucher (a one-line voucher is a correction posted on its own).
      const cents = last && size > 1 ? -balance : (bigCents ?? (rng.chance(0.5) ? 1 : -1) * rng.between(1, 5_000_000));
      balance += cents;
      rows.push({
        CONO: company.cono,
        DIVI: divi,
        YEA4: year,
        JRNO: jrno,
        JSNO: String(i + 1),
        TRCD: '10',
        ACDT: acdt,
        AIT1: rng.pick(accounts),
        AIT2: rng.chance(0.4) ? `CC${rng.between(1, 3)}00` : '',
        AIT3: rng.chance(0.1) ? `P${rng.between(100, 999)}` : '',
        ACAM: formatScaled(cents, 2),
        CUAM: formatScaled(cents, 2),
        CUCD: company.currency,
        ARAT: '1',
        VTXT: fit(rng.pick(VOUCHER_TEXTS), 40),
        VSER: 'GL',
        VONO: vono,
        FEID: 'GLS1',
        ...audit,
      });
    }
    return rows;
  }

  // --- the seeded tenant --------------------------------------------------------------------------

  private insert(table: string, row: M3Row): void {
    this.db.table(table).insert(row);
  }

  private generate(): void {
    const { volume } = this.config;
    this.companies.forEach((company, index) => this.generateCompany(company, index === 0, volume));
  }

  private generateCompany(company: CompanyInfo, first: boolean, volume: Volume): void {
    const seed = this.config.seed;
    const cono = company.cono;

    this.insert('CMNDIV', { CONO: cono, DIVI: '', CONM: company.name, TX40: company.name, TX15: fit(company.name, 15), LOCD: company.currency, CSCD: company.country, LNCD: company.language });
    for (const d of company.divisions) {
      this.insert('CMNDIV', { CONO: cono, DIVI: d.divi, CONM: d.name, TX40: d.name, TX15: d.shortName, LOCD: company.currency, CSCD: company.country, LNCD: company.language, FACI: d.facility, WHLO: d.warehouse });
    }

    // Suppliers: mostly S00001-style numbers, plus keys whose string order differs from numeric order.
    let rng = Rng.for(seed, 'CIDMAS', cono);
    const suppliers: M3Row[] = [];
    const supplierByNumber = new Map<string, M3Row>();
    const oddKeys = ['9', '10', '100', '7001', 'AB 100', 'ZZ-TEST'];
    for (let i = 0; i < volume.suppliers; i++) {
      const odd = i % 6 === 5 ? oddKeys[Math.floor(i / 6)] : undefined;
      const suno = odd ?? `S${pad(this.next('SUNO', cono), 5)}`;
      const special = i < SPECIAL_SUPPLIER_NAMES.length ? i : undefined;
      const row = this.buildSupplier(rng, company, suno, null, special);
      this.insert('CIDMAS', row);
      suppliers.push(row);
      supplierByNumber.set(suno, row);
    }

    // Chart of accounts per division (accounts, AITP 1) plus a few cost centres (AITP 2).
    rng = Rng.for(seed, 'FCHACC', cono);
    const accountsByDivision = new Map<string, string[]>();
    for (const d of company.divisions) {
      const codes = new Set<string>();
      for (const code of BASE_ACCOUNTS) {
        if (codes.size >= volume.glAccountsPerDivision) break;
        codes.add(code);
      }
      while (codes.size < volume.glAccountsPerDivision) codes.add(String(rng.between(1000, codes.size > 8000 ? 99_999_999 : 9999)));
      const accounts = [...codes];
      accountsByDivision.set(d.divi, accounts.length > 0 ? accounts : ['4010']);
      for (const aitm of accounts) this.insert('FCHACC', this.buildAccount(rng, company, d.divi, 1, aitm, null));
      for (const cc of ['CC100', 'CC200', 'CC300']) this.insert('FCHACC', this.buildAccount(rng, company, d.divi, 2, cc, null));
    }

    // Purchase agreements.
    rng = Rng.for(seed, 'MPAGRH', cono);
    if (suppliers.length > 0) {
      for (let i = 0; i < volume.agreements; i++) {
        const agnb = `AG${pad(this.next('AGNB', cono), 5)}`;
        this.insert('MPAGRH', this.buildAgreement(rng, company, rng.pick(suppliers).SUNO as string, agnb, null));
      }
    }

    // Purchase orders, one of them in the first company with `bigOrderLines` lines.
    rng = Rng.for(seed, 'MPHEAD', cono);
    const orders: { head: M3Row; lines: M3Row[] }[] = [];
    const bigAt = first && volume.bigOrderLines > 0 ? Math.floor(volume.purchaseOrders / 2) : -1;
    const avgLines = Math.max(1, volume.linesPerOrder);
    for (let i = 0; i < volume.purchaseOrders && suppliers.length > 0; i++) {
      const puno = String(1_000_000_000 + this.next('PUNO', cono) * 10);
      const head = this.buildOrderHead(rng, company, puno, rng.pick(suppliers), null);
      const lines: M3Row[] = [];
      if (i === bigAt) {
        const step = volume.bigOrderLines * 10 <= 99_999 ? 10 : 1;
        for (let l = 1; l <= volume.bigOrderLines; l++) lines.push(this.buildOrderLine(rng, head, l * step, 0, null));
      } else {
        const count = rng.between(1, 2 * avgLines - 1);
        for (let l = 1; l <= count; l++) {
          lines.push(this.buildOrderLine(rng, head, l * 10, 0, null));
          // Occasional sub-lines share the line number.
          if (rng.chance(0.05)) lines.push(this.buildOrderLine(rng, head, l * 10, 1, null));
        }
      }
      this.finishOrder(head, lines);
      this.insert('MPHEAD', head);
      for (const line of lines) this.insert('MPLINE', line);
      orders.push({ head, lines });
    }

    // Supplier invoices: batch heads/lines, posted AP ledger entries, partial payments, GL lines.
    rng = Rng.for(seed, 'INVOICES', cono);
    for (let i = 0; i < volume.invoices && suppliers.length > 0; i++) {
      const order = orders.length > 0 && rng.chance(0.7) ? rng.pick(orders) : null;
      const supplier = order ? (supplierByNumber.get(order.head.SUNO as string) ?? rng.pick(suppliers)) : rng.pick(suppliers);
      // Edge amounts in the first company: a large invoice and a small credit note.
      const netCents = first && i === 3 ? 12_345_678_901_234 : first && i === 4 ? -123_456 : undefined;
      const invoice = this.buildInvoice(rng, company, supplier, order, null, netCents !== undefined ? { netCents, posted: true, batch: true } : {});
      if (invoice.head) this.insert('FAPIBH', invoice.head);
      for (const line of invoice.lines) this.insert('FAPIBL', line);
      if (invoice.ledger) {
        this.insert('FPLEDG', invoice.ledger);
        for (const row of invoice.gl) this.insert('FGLEDG', row);
        this.seedPayments(rng, invoice.ledger, first && i < 3 ? 3 : undefined);
        for (const row of this.splitInstalments(invoice.ledger)) this.insert('FPLEDG', row);
      }
    }

    // Manual GL vouchers up to the requested number of GL lines.
    rng = Rng.for(seed, 'FGLEDG', cono);
    let glLines = 0;
    let voucherIndex = 0;
    while (glLines < volume.glTransactions) {
      const division = rng.pick(company.divisions);
      const size = Math.min(rng.between(2, 4), Math.max(2, volume.glTransactions - glLines));
      const big = first && voucherIndex === 0 ? 12_345_678_901_234 : undefined;
      const rows = this.buildGlVoucher(rng, company, division.divi, accountsByDivision.get(division.divi) ?? ['4010'], size, null, big);
      for (const row of rows) this.insert('FGLEDG', row);
      glLines += rows.length;
      voucherIndex++;
    }
  }

  /**
   * Some invoices are payable in instalments: M3 posts one TRCD 40 entry per instalment, each with its own
   * due date and part of the amount, under the invoice's journal and with its payee, supplier, number and
   * year. The entry given keeps the first instalment (and all the VAT); the others are returned. A stream of
   * its own, so the rest of the seeded tenant is unchanged.
   */
  splitInstalments(invoice: M3Row): M3Row[] {
    const rng = Rng.for(this.seed, 'instalments', invoice.CONO as string, invoice.DIVI as string, invoice.YEA4 as string, invoice.JRNO as string);
    const gross = -toScaled(invoice.CUAM as string, 2);
    if (invoice.TRCD !== '40' || gross < 300n || !rng.chance(0.15)) return [];
    const count = BigInt(rng.between(2, 3));
    const share = gross / count;
    const rest: M3Row[] = [];
    for (let k = 1n; k < count; k++) {
      rest.push({
        ...invoice,
        JSNO: String(Number(invoice.JSNO) + Number(k)),
        CUAM: formatScaled(-share, 2),
        VTAM: '0',
        DUDT: addDays(invoice.DUDT as string, 30 * Number(k)),
        PYST: '1',
        RECO: '0',
        REDE: '0',
      });
    }
    invoice.CUAM = formatScaled(-(gross - share * (count - 1n)), 2);
    return rest;
  }

  /**
   * The reversal of a posted, unpaid invoice (all its instalments): M3 never deletes ledger rows, it posts
   * opposite entries under a new journal and voucher. The AP entries (TRCD 40, same payee, supplier, number
   * and year, opposite amounts) net the invoice to zero; the GL lines mirror the invoice's voucher. The
   * originals are marked settled (PYST 9) and touched by the caller.
   */
  buildReversal(rng: Rng, instalments: M3Row[], invoiceGl: M3Row[], day: string): { ledger: M3Row[]; gl: M3Row[] } {
    const first = instalments[0]!;
    const cono = first.CONO as string;
    const divi = first.DIVI as string;
    const year = day.slice(0, 4);
    const jrno = String(this.next('JRNO', cono, divi, year));
    const vono = String(this.next('VONO', cono, divi, year, 'AP'));
    const negate = (value: string | undefined) => formatScaled(-toScaled(value ?? '0', 2), 2);
    const ledger = instalments.map((row, i): M3Row => ({
      ...row,
      YEA4: year,
      JRNO: jrno,
      JSNO: String(i + 1),
      VONO: vono,
      CUAM: negate(row.CUAM),
      VTAM: negate(row.VTAM),
      ACDT: day,
      PYST: '9',
      RECO: '9',
      REDE: day,
      ...this.freshAudit(day, 'APS110'),
    }));
    const gl = invoiceGl.map((row): M3Row => ({
      ...row,
      YEA4: year,
      JRNO: jrno,
      VONO: vono,
      ACDT: day,
      ACAM: negate(row.ACAM),
      CUAM: negate(row.CUAM),
      VTXT: fit(`Reversal ${first.SUNO} ${first.SINO}`, 40),
      ...this.freshAudit(day, rng.pick(USERS)),
    }));
    for (const row of instalments) {
      row.PYST = '9';
      row.RECO = '9';
      row.REDE = day;
    }
    return { ledger, gl };
  }

  /** Zero to three partial payments of a seeded invoice, all before the start date. */
  private seedPayments(rng: Rng, invoice: M3Row, forced?: number): void {
    const gross = -Math.round(Number(invoice.CUAM) * 100);
    if (gross <= 0) return;
    const roll = rng.next();
    const count = forced ?? (roll < 0.3 ? 0 : roll < 0.65 ? 1 : roll < 0.85 ? 2 : 3);
    const fullyPaid = rng.chance(0.6);
    let paid = 0;
    let date = invoice.ACDT as string;
    for (let k = 0; k < count; k++) {
      const next = addDays(date, rng.between(1, 20));
      if (dayNumber(next) >= dayNumber(this.config.startDate)) break;
      date = next;
      const remaining = gross - paid;
      const last = k === count - 1;
      const cents = last && fullyPaid ? remaining : Math.max(1, Math.floor(remaining / (count - k + 1)));
      const { payment, gl } = this.buildPayment(rng, invoice, cents, date, null);
      this.insert('FPLEDG', payment);
      for (const row of gl) this.insert('FGLEDG', row);
      paid += cents;
    }
    if (paid > 0) {
      this.settleInvoice(invoice, paid, date);
      // The status change is itself a change of the invoice entry.
      if (dayNumber(invoice.LMDT as string) < dayNumber(date)) {
        invoice.LMDT = date;
        invoice.LMTS = `${date}${(invoice.LMTS as string).slice(8)}`;
        invoice.CHNO = nextChangeNumber(invoice.CHNO, count);
      }
    }
  }
}

/** CHNO after `step` changes: M3's change number is N3 and wraps after 999 (to 0). */
export function nextChangeNumber(chno: string | undefined, step: number): string {
  return String((Number(chno ?? '0') + step) % 1000);
}

/** A decimal string as an integer scaled by 10^decimals. */
export function toScaled(value: string, decimals: number): bigint {
  if (value === '') return 0n;
  const negative = value.startsWith('-');
  const [i = '0', f = ''] = (negative ? value.slice(1) : value).split('.');
  const n = BigInt(i + f.padEnd(decimals, '0').slice(0, decimals));
  return negative ? -n : n;
}
