/**
 * The four production statuses a history row carries (doctypes/crm_lead_order_item) and how each is
 * shown: Frappe's indicator colours, with a readable label beside the colour so colour is never the
 * only signal (the seed painted colour alone).
 */
/** Frappe's indicator colours (frappe/public/scss/common/indicator.scss [v15]). */
export type Indicator = 'blue' | 'green' | 'orange' | 'yellow' | 'red' | 'gray';

export const STATUS_FIELDS = ['ops_status', 'material_status', 'production_status', 'qa_status'] as const;

const COLOURS: Record<string, Indicator> = {
  APPROVED: 'green',
  IN_STOCK: 'green',
  DONE: 'green',
  IN_PROGRESS: 'blue',
  PENDING: 'orange',
  ORDERED: 'orange',
  AWAITING: 'orange',
  BLOCKED: 'red',
  OUT_OF_STOCK: 'red',
  REJECTED: 'red',
};

export function statusColour(value: string): Indicator {
  return COLOURS[value] ?? 'gray';
}

/** "IN_PROGRESS" → "In Progress"; "OUT_OF_STOCK" → "Out Of Stock" reads oddly, so: "Out of Stock". */
export function statusLabel(value: string): string {
  const small = new Set(['of', 'in', 'on', 'to']);
  return value
    .toLowerCase()
    .split('_')
    .filter(Boolean)
    .map((word, i) => (i > 0 && small.has(word) ? word : word[0]!.toUpperCase() + word.slice(1)))
    .join(' ');
}
