/**
 * What a Done Order Sync Request says in the UIs: worded from its order count, one translatable
 * string per plural form, through the page's `__` (Frappe's `__` has no plural forms).
 */
import { describe, expect, it } from 'vitest';
import { MESSAGES, syncedText } from '../../desk/order_history/messages.js';

/** `__` with a translation table, filling `{0}` as Frappe's translate.js does. */
function translator(table: Record<string, string>) {
  const asked: string[] = [];
  const tr = (text: string, args: unknown[] = []) => {
    asked.push(text);
    return (table[text] ?? text).replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m));
  };
  return { tr, asked };
}

describe('the Done message', () => {
  it('has the plural right for 0, 1 and many orders', () => {
    const { tr } = translator({});
    expect(syncedText(tr, 0)).toBe('No orders to sync');
    expect(syncedText(tr, 1)).toBe('Synced 1 order');
    expect(syncedText(tr, 2)).toBe('Synced 2 orders');
    expect(syncedText(tr, 17)).toBe('Synced 17 orders');
  });

  it('a request without a count (an older sidecar) still reads as a sentence, with no number made up', () => {
    const { tr } = translator({});
    for (const missing of [null, undefined, Number.NaN, -1, 1.5]) expect(syncedText(tr, missing as number)).toBe('Order history synced');
  });

  it('each form is its own string for the translator, the count an argument', () => {
    const { tr, asked } = translator({
      'Synced 1 order': '1 Auftrag synchronisiert',
      'Synced {0} orders': '{0} Aufträge synchronisiert',
      'No orders to sync': 'Keine Aufträge zu synchronisieren',
    });
    expect(syncedText(tr, 1)).toBe('1 Auftrag synchronisiert');
    expect(syncedText(tr, 3)).toBe('3 Aufträge synchronisiert');
    expect(syncedText(tr, 0)).toBe('Keine Aufträge zu synchronisieren');
    expect(asked).toEqual([MESSAGES.syncedOne, MESSAGES.syncedMany, MESSAGES.syncedNone]);
  });
});
