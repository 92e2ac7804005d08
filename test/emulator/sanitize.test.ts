/**
 * HTML sanitisation on save (frappe/frappe:frappe/model/base_document.py `_sanitize_content`,
 * frappe/utils/html_utils.py `sanitize_html` [v15]): tag-like text is escaped in ordinary fields,
 * allowed tags are kept, Code fields, JSON and text without a tag are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { sanitizeHtml } from '../../emulator/core/sanitize.js';
import { adminClient, start, type Client } from '../helpers/emulator.js';

let emu: RunningEmulator;
let admin: Client;

beforeAll(async () => {
  emu = await start();
  admin = await adminClient(emu);
});

afterAll(async () => {
  await emu?.close();
});

describe('sanitize_html', () => {
  it('escapes tags off the allow list and bare ampersands, keeps allowed tags, leaves JSON and tagless text alone', () => {
    expect(sanitizeHtml('key shopify:<shop>:<id>')).toBe('key shopify:&lt;shop&gt;:&lt;id&gt;');
    expect(sanitizeHtml('<p>A & B</p><script>x()</script>')).toBe('<p>A &amp; B</p>&lt;script&gt;x()&lt;/script&gt;');
    expect(sanitizeHtml('a < b and c > d')).toBe('a < b and c > d');
    expect(sanitizeHtml('{"note": "<shop>"}')).toBe('{"note": "<shop>"}');
  });
});

describe('_sanitize_content on save', () => {
  it('escapes a Custom Field description on insert and on update, but not a Client Script (Code)', async () => {
    const cf = await admin.insert('Custom Field', { dt: 'Customer', fieldname: 'custom_shop_key', fieldtype: 'Data', label: 'Shop Key', description: 'shopify:<shop>:<id>' });
    expect(cf.status, JSON.stringify(cf.body)).toBe(200);
    expect(cf.body.data.description).toBe('shopify:&lt;shop&gt;:&lt;id&gt;');
    const up = await admin.update('Custom Field', cf.body.data.name, { description: 'etsy:<shop>' });
    expect(up.body.data.description).toBe('etsy:&lt;shop&gt;');
    const script = "frappe.ui.form.on('Customer', { refresh(frm) { if (a < b && c > d) frm.set_intro('<b>x</b>'); } });";
    const cs = await admin.insert('Client Script', { name: 'Sanitize Probe', dt: 'Customer', view: 'Form', enabled: 0, script });
    expect(cs.status, JSON.stringify(cs.body)).toBe(200);
    expect(cs.body.data.script).toBe(script);
  });
});
