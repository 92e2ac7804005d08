/**
 * `erpnext.setup.utils.get_exchange_rate` (whitelisted, erpnext/setup/utils.py [v15]): 1 for the
 * same currency; else the latest Currency Exchange on or before the date (for selling/buying when
 * asked; Accounts Settings' "allow stale" is on by default, so no age limit); else ERPNext asks an
 * exchange-rate web API — which the emulator, offline, treats as failing: the msgprint "Unable to
 * find exchange rate …" and 0.
 */
import { msgprint, type Ctx } from '../../core/document.js';
import { getList } from '../../core/query.js';

export function getExchangeRate(ctx: Ctx, form: Record<string, unknown>): number | null {
  const from = form.from_currency ? String(form.from_currency) : '';
  const to = form.to_currency ? String(form.to_currency) : '';
  if (!from || !to) return null;
  if (from === to) return 1;
  const date = form.transaction_date ? String(form.transaction_date) : ctx.site.now().slice(0, 10);
  const filters: unknown[] = [
    ['date', '<=', date],
    ['from_currency', '=', from],
    ['to_currency', '=', to],
  ];
  if (form.args === 'for_buying') filters.push(['for_buying', '=', '1']);
  if (form.args === 'for_selling') filters.push(['for_selling', '=', '1']);
  const rows = getList(ctx.site, ctx.user, {
    doctype: 'Currency Exchange',
    fields: ['exchange_rate'],
    filters,
    order_by: 'date desc',
    limit_page_length: 1,
    ignorePermissions: true,
  }) as { exchange_rate: number }[];
  if (rows.length) return Number(rows[0]!.exchange_rate);
  msgprint(ctx, `Unable to find exchange rate for ${from} to ${to} for key date ${date}. Please create a Currency Exchange record manually`);
  return 0;
}
