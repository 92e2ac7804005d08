import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDoctypeTypes } from '../scripts/gen_types.js';

const root = resolve(import.meta.dirname, '..');
const REGENERATE = 'npm run gen:types';

describe('generated DocType types (lib/doctypes/*.gen.ts)', () => {
  const generated = generateDoctypeTypes(root);

  it('match doctypes/*.json: every committed file is what the generator writes', () => {
    for (const [rel, content] of generated) {
      let committed: string | undefined;
      try {
        committed = readFileSync(join(root, rel), 'utf8');
      } catch {
        committed = undefined;
      }
      expect(committed, `${rel} is missing or stale: run \`${REGENERATE}\` and commit the result`).toBe(content);
    }
  });

  it('leave no generated file behind that doctypes/ no longer produces', () => {
    const committed = readdirSync(join(root, 'lib/doctypes'))
      .filter((f) => f.endsWith('.gen.ts'))
      .map((f) => `lib/doctypes/${f}`)
      .sort();
    expect(committed, `run \`${REGENERATE}\` and delete the files it no longer writes`).toEqual([...generated.keys()].sort());
  });

  it('is deterministic and marks each file generated', () => {
    expect([...generateDoctypeTypes(root)]).toEqual([...generated]);
    for (const content of generated.values()) expect(content.split('\n')[0]).toMatch(/^\/\/ Generated from doctypes\/.+ — do not edit; run `npm run gen:types`\.$/);
  });

  it('types fields by what Frappe holds: Select as its options, Table as its row type, optional fields as nullable', () => {
    const item = generated.get('lib/doctypes/crm_lead_order_item.gen.ts')!;
    expect(item).toContain('qty: number | null;');
    expect(item).toContain('ops_status: "" | "APPROVED" | "PENDING" | "BLOCKED" | null;');
    expect(item).not.toContain('column_break_status');
    const request = generated.get('lib/doctypes/order_sync_request.gen.ts')!;
    expect(request).toContain('reference_doctype: string;');
    expect(request).toContain('status: "Queued" | "Running" | "Done" | "Failed" | null;');
    expect(generated.get('lib/doctypes/hd_ticket_custom_fields.gen.ts')).toContain('custom_order_history: HdTicketOrderItem[] | null;');
  });
});
