/**
 * ERPNext's `calculate_taxes_and_totals` for a Sales Order, as far as the emulator goes
 * (frappe/erpnext [v15] erpnext/controllers/taxes_and_totals.py), with the number helpers it
 * relies on from frappe/frappe [v15] frappe/utils/data.py (`flt`, `rounded`, `remainder`,
 * `round_based_on_smallest_currency_fraction`).
 *
 * Emulated: item amounts (price-list rate × discount when no rate is given), net total, tax rows of
 * charge type **Actual** (spread over the items by net amount, the last item taking the remainder)
 * and **On Net Total** (rate % of each item's net amount), running row totals, grand total,
 * rounded total by the currency's smallest fraction, and every `base_*` value at the order's
 * conversion rate. Not emulated (README, "What it does not cover"): the other charge types, taxes
 * included in the print rate, item tax templates, additional discounts, shipping rules, pricing
 * rules and price-list lookups — a row that needs them is refused with a ValidationError that says so.
 */
import type { Doc } from '../../core/database.js';
import type { Ctx } from '../../core/document.js';
import { FrappeError } from '../../core/errors.js';

// ---- frappe/utils/data.py ------------------------------------------------------------------

type RoundingMethod = "Banker's Rounding (legacy)" | "Banker's Rounding" | 'Commercial Rounding';

function roundingMethod(ctx: Ctx | null): RoundingMethod {
  const m = ctx?.site.db.get('System Settings', 'System Settings')?.rounding_method;
  return m === "Banker's Rounding" || m === 'Commercial Rounding' ? m : "Banker's Rounding (legacy)";
}

/** Python's `round(x, 8)`, enough to drop the binary noise of `x * 10**precision`. */
function round8(x: number): number {
  return Math.abs(x) < 1e15 ? Number(x.toFixed(8)) : x;
}

/**
 * `rounded(num, precision)` [v15]. The default System Setting, "Banker's Rounding (legacy)"
 * (`_bankers_rounding_legacy`), rounds a half up when precision > 0 and to even at precision 0;
 * the two newer methods round halves to even / away from zero at every precision.
 */
export function rounded(num: number, precision = 0, method: RoundingMethod = "Banker's Rounding (legacy)"): number {
  if (!Number.isFinite(num)) return num;
  const multiplier = 10 ** precision;
  const n = round8(precision ? num * multiplier : num);
  const floor = Math.floor(n);
  const half = n - floor === 0.5;
  let r: number;
  if (!half) r = Math.round(n);
  else if (method === 'Commercial Rounding') r = n < 0 ? floor : floor + 1;
  else if (method === "Banker's Rounding" || !precision) r = floor % 2 === 0 ? floor : floor + 1;
  else r = floor + 1; // legacy, precision > 0
  return precision ? r / multiplier : r;
}

/** `flt(value, precision)`: a float, rounded by the site's rounding method when a precision is given. */
export function flt(value: unknown, precision?: number, ctx: Ctx | null = null): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (value === null || value === undefined || value === '') n = 0;
  else {
    n = parseFloat(String(value).replace(/,/g, ''));
    if (Number.isNaN(n)) n = 0;
  }
  if (precision === undefined) return n;
  return rounded(n, precision, roundingMethod(ctx));
}

/** `remainder(numerator, denominator, precision)`: Python's `%` (sign of the divisor), then `flt`. */
function remainder(numerator: number, denominator: number, precision: number, ctx: Ctx): number {
  const mod = (a: number, b: number) => ((a % b) + b) % b;
  const m = 10 ** precision;
  const r = precision ? mod(numerator * m, denominator * m) / m : mod(numerator, denominator);
  return flt(r, precision, ctx);
}

/** `round_based_on_smallest_currency_fraction(value, currency, precision)` [v15]. */
export function roundBasedOnSmallestCurrencyFraction(ctx: Ctx, value: number, currency: unknown, precision: number): number {
  const fraction = flt(currency ? ctx.site.db.get('Currency', String(currency))?.smallest_currency_fraction_value : 0);
  let v = value;
  if (fraction) {
    const rem = remainder(v, fraction, precision, ctx);
    if (rem > fraction / 2) v += fraction - rem;
    else v -= rem;
  } else {
    v = rounded(v, 0, roundingMethod(ctx));
  }
  return flt(v, precision, ctx);
}

/** Python's `repr(float)` for `json.dumps`: integral floats keep their `.0`. */
export function pyFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return String(n);
}

// ---- precision -----------------------------------------------------------------------------

/**
 * `get_field_precision` [v15] for the fields used here: Currency → System Settings
 * `currency_precision`, else the decimals of the number format (2 for "#,###.##");
 * Float/Percent → `float_precision`, else 3.
 */
function precisions(ctx: Ctx): { currency: number; float: number } {
  const ss = ctx.site.db.get('System Settings', 'System Settings') ?? {};
  const cp = ss.currency_precision;
  const fp = ss.float_precision;
  // frappe/utils/number_format.py NUMBER_FORMAT_MAP [v15]: decimals per number format
  const decimals: Record<string, number> = { '#,###.###': 3, '#.###': 0, '#,###': 0 };
  const fmt = String(ss.number_format || '#,###.##');
  // cint(): an unset or "0" setting falls back (currency → number format, float → 3)
  return { currency: Number(cp) || (decimals[fmt] ?? 2), float: Number(fp) || 3 };
}

// ---- errors --------------------------------------------------------------------------------

function throwValidation(message: string, title?: string): never {
  throw new FrappeError('ValidationError', { message, title, excText: message });
}

// ---- accounts_controller.py helpers ---------------------------------------------------------

/** `validate_taxes_and_charges(tax)` (erpnext/controllers/accounts_controller.py [v15]). */
function validateTaxesAndCharges(tax: Doc): void {
  const type = String(tax.charge_type ?? '');
  const idx = Number(tax.idx ?? 0);
  if (['Actual', 'On Net Total', 'On Paid Amount'].includes(type) && tax.row_id) {
    throwValidation("Can refer row only if the charge type is 'On Previous Row Amount' or 'Previous Row Total'");
  } else if (type === 'On Previous Row Amount' || type === 'On Previous Row Total') {
    if (idx === 1) throwValidation("Cannot select charge type as 'On Previous Row Amount' or 'On Previous Row Total' for first row");
    else if (!tax.row_id) throwValidation(`Please specify a valid Row ID for row ${idx} in table ${tax.doctype ?? 'Sales Taxes and Charges'}`);
    else if (parseInt(String(tax.row_id), 10) >= idx) throwValidation('Cannot refer row number greater than or equal to current row number for this Charge type');
  }
  if (type === 'Actual') tax.rate = null;
}

/** `validate_inclusive_tax(tax, doc)` [v15]: the one check the emulator can meet; the rest is a limit. */
function validateInclusiveTax(tax: Doc): void {
  if (!Number(tax.included_in_print_rate ?? 0)) return;
  if (tax.charge_type === 'Actual') {
    throwValidation(`Charge of type 'Actual' in row ${tax.idx} cannot be included in Item Rate or Paid Amount`);
  }
  // Emulator limit (README): ERPNext would derive exclusive item rates (determine_exclusive_rate).
  throwValidation(`The emulator does not compute taxes included in the print rate (Sales Taxes and Charges row ${tax.idx}); send exclusive item rates instead`);
}

const EMULATED_CHARGE_TYPES = new Set(['Actual', 'On Net Total']);

// ---- calculate_taxes_and_totals ---------------------------------------------------------------

/**
 * `calculate_taxes_and_totals(doc)` for a Sales Order: `_calculate` (validate_conversion_rate,
 * calculate_item_values, initialize_taxes, calculate_net_total, calculate_taxes, calculate_totals,
 * _cleanup) and `set_rounded_total`. The document is changed in place.
 */
export function calculateTaxesAndTotals(ctx: Ctx, doc: Doc): void {
  const p = precisions(ctx);
  const cur = (v: unknown) => flt(v, p.currency, ctx);
  const items = Array.isArray(doc.items) ? (doc.items as Doc[]) : [];
  const taxes = Array.isArray(doc.taxes) ? (doc.taxes as Doc[]) : [];
  // calculate(): `if not len(self.doc.items): return` — mandatory `items` fails later.
  if (!items.length) return;

  validateConversionRate(ctx, doc);
  const cr = flt(doc.conversion_rate);
  const base = (row: Doc, fields: string[]) => {
    // _set_in_company_currency: base_<f> = flt(flt(f, precision) * conversion_rate, precision)
    for (const f of fields) row[`base_${f}`] = cur(cur(row[f]) * cr);
  };

  // calculate_item_values
  for (const item of items) {
    item.qty = flt(item.qty, p.float, ctx);
    for (const f of ['rate', 'price_list_rate', 'discount_amount']) item[f] = cur(item[f]);
    item.discount_percentage = flt(item.discount_percentage, p.float, ctx);
    const plr = flt(item.price_list_rate);
    const disc = flt(item.discount_percentage);
    if (disc === 100) item.rate = 0;
    else if (plr && !flt(item.rate)) {
      item.rate = cur(plr * (1 - disc / 100));
      item.discount_amount = plr * (disc / 100);
    }
    // calculate_margin() is 0 without a margin type; then the discount is what the rate lost.
    if (plr > 0) item.discount_amount = plr - flt(item.rate);
    item.net_rate = item.rate;
    item.amount = cur(flt(item.rate) * flt(item.qty));
    item.net_amount = item.amount;
    base(item, ['price_list_rate', 'rate', 'net_rate', 'amount', 'net_amount']);
  }

  // initialize_taxes
  for (const tax of taxes) {
    validateTaxesAndCharges(tax);
    validateInclusiveTax(tax);
    const type = String(tax.charge_type ?? '');
    if (type && !EMULATED_CHARGE_TYPES.has(type)) {
      throwValidation(`The emulator does not compute taxes of type '${type}' (Sales Taxes and Charges row ${tax.idx}); only 'Actual' and 'On Net Total' are emulated`);
    }
    if (!Number(tax.dont_recompute_tax ?? 0)) tax.item_wise_tax_detail = {};
    tax.total = 0;
    tax.tax_amount_after_discount_amount = 0;
    if (type !== 'Actual') tax.tax_amount = 0;
    // round_floats_in(tax)
    tax.rate = flt(tax.rate, p.float, ctx);
    tax.tax_amount = cur(tax.tax_amount);
  }

  // calculate_net_total
  let totalQty = 0;
  let total = 0;
  let baseTotal = 0;
  let netTotal = 0;
  let baseNetTotal = 0;
  for (const item of items) {
    total += flt(item.amount);
    totalQty += flt(item.qty);
    baseTotal += flt(item.base_amount);
    netTotal += flt(item.net_amount);
    baseNetTotal += flt(item.base_net_amount);
  }
  doc.total_qty = totalQty;
  doc.total = cur(total);
  doc.base_total = cur(baseTotal);
  doc.net_total = cur(netTotal);
  doc.base_net_total = cur(baseNetTotal);

  // calculate_taxes
  if (taxes.length) {
    const actual = new Map<number, number>();
    for (const tax of taxes) if (tax.charge_type === 'Actual') actual.set(Number(tax.idx), cur(tax.tax_amount));
    items.forEach((item, n) => {
      const key = String(item.item_code || item.item_name || '');
      for (const tax of taxes) {
        const rate = flt(tax.rate);
        // get_current_tax_amount
        let current = 0;
        if (tax.charge_type === 'Actual') {
          // distribute the tax amount proportionally to each item row
          const amount = cur(tax.tax_amount);
          current = flt(doc.net_total) ? (flt(item.net_amount) * amount) / flt(doc.net_total) : 0;
        } else if (tax.charge_type === 'On Net Total') {
          current = (rate / 100) * flt(item.net_amount);
        }
        if (!Number(tax.dont_recompute_tax ?? 0)) {
          // set_item_wise_tax: [rate, amount in company currency], summed per item code
          const detail = tax.item_wise_tax_detail as Record<string, [number, number]>;
          const prev = detail[key]?.[1] ?? 0;
          detail[key] = [rate, flt(prev + current * cr)];
        }
        // calculate_taxes: adjust divisional loss to the last item
        if (tax.charge_type === 'Actual') {
          actual.set(Number(tax.idx), (actual.get(Number(tax.idx)) ?? 0) - current);
          if (n === items.length - 1) current += actual.get(Number(tax.idx)) ?? 0;
        } else {
          tax.tax_amount = flt(tax.tax_amount) + current;
        }
        tax.tax_amount_after_discount_amount = flt(tax.tax_amount_after_discount_amount) + current;
      }
    });
    taxes.forEach((tax, i) => {
      // round_off_totals, then base values and the running total (set_cumulative_total)
      tax.tax_amount = cur(tax.tax_amount);
      tax.tax_amount_after_discount_amount = cur(tax.tax_amount_after_discount_amount);
      base(tax, ['tax_amount', 'tax_amount_after_discount_amount']);
      const previous = i === 0 ? flt(doc.net_total) : flt(taxes[i - 1].total);
      tax.total = cur(previous + flt(tax.tax_amount_after_discount_amount));
      base(tax, ['total']);
    });
  }

  // calculate_totals
  doc.grand_total = taxes.length ? flt(taxes[taxes.length - 1].total) : flt(doc.net_total);
  doc.total_taxes_and_charges = taxes.length ? cur(flt(doc.grand_total) - flt(doc.net_total)) : 0;
  base(doc, ['total_taxes_and_charges']);
  doc.base_grand_total = flt(doc.total_taxes_and_charges) ? cur(flt(doc.grand_total) * cr) : doc.base_net_total;
  doc.grand_total = cur(doc.grand_total);
  doc.base_grand_total = cur(doc.base_grand_total);
  setRoundedTotal(ctx, doc, p.currency);

  // _cleanup: the item-wise breakdown is stored as compact JSON
  for (const tax of taxes) {
    if (Number(tax.dont_recompute_tax ?? 0)) continue;
    const detail = tax.item_wise_tax_detail as Record<string, [number, number]>;
    tax.item_wise_tax_detail = `{${Object.entries(detail)
      .map(([k, [r, a]]) => `${JSON.stringify(k)}:[${pyFloat(r)},${pyFloat(a)}]`)
      .join(',')}}`;
  }

  // AccountsController.validate: self.validate_value("base_grand_total", ">=", 0)
  if (flt(doc.base_grand_total) < 0) throwValidation('Incorrect value: Grand Total (Company Currency) must be >= 0');
}

/** `validate_conversion_rate` (taxes_and_totals.py + accounts_controller.py [v15]). */
function validateConversionRate(ctx: Ctx, doc: Doc): void {
  const company = doc.company ? ctx.site.db.get('Company', String(doc.company)) : undefined;
  const companyCurrency = company?.default_currency ?? null;
  if (!doc.currency || doc.currency === companyCurrency) {
    doc.currency = companyCurrency;
    doc.conversion_rate = 1;
  } else if (!flt(doc.conversion_rate)) {
    throwValidation(`Exchange Rate is mandatory. Maybe Currency Exchange record is not created for ${doc.currency} to ${companyCurrency}.`);
  }
  doc.conversion_rate = flt(doc.conversion_rate);
}

/** `set_rounded_total` [v15]; `is_rounded_total_disabled` reads the order's own check box. */
function setRoundedTotal(ctx: Ctx, doc: Doc, precision: number): void {
  if (Number(doc.disable_rounded_total ?? 0)) {
    doc.rounded_total = 0;
    doc.base_rounded_total = 0;
    doc.rounding_adjustment = 0;
    return;
  }
  const cr = flt(doc.conversion_rate);
  doc.rounded_total = roundBasedOnSmallestCurrencyFraction(ctx, flt(doc.grand_total), doc.currency, precision);
  doc.rounding_adjustment = flt(flt(doc.rounded_total) - flt(doc.grand_total), precision, ctx);
  doc.base_rounding_adjustment = flt(flt(doc.rounding_adjustment, precision, ctx) * cr, precision, ctx);
  doc.base_rounded_total = flt(flt(doc.rounded_total, precision, ctx) * cr, precision, ctx);
}
