/**
 * HTML sanitisation on save (frappe/frappe:frappe/model/base_document.py `_sanitize_content`
 * [v15], called from `Document._validate` for the document and each child row), with
 * `frappe.utils.html_utils.sanitize_html` (frappe/frappe:frappe/utils/html_utils.py [v15]).
 *
 * `_sanitize_content` skips a value that is empty, not a string or has neither `<` nor `>`, and a
 * field that has `ignore_xss_filter`, is Data/Small Text/Text with options Email, is Attach,
 * Attach Image, Barcode or Code, or belongs to a cancelled document or a submitted one (unless
 * allow_on_submit). No DocType is exempt: Custom Field descriptions and DocField rows are
 * sanitised like any other field (the real site escaped `<shop>` in a Custom Field description,
 * issue 11). Skipped entirely while installing (`frappe.flags.in_install`).
 *
 * `sanitize_html` leaves JSON and text in which BeautifulSoup finds no tag as they are; otherwise
 * `bleach.clean` keeps the tags of its allow list and escapes every other tag as text
 * (`<shop>` → `&lt;shop&gt;`), and escapes a bare `&`, `<` or `>` in the text.
 * Not emulated: bleach's attribute/CSS filtering and html5lib's balancing of unclosed allowed tags.
 */
import type { Doc } from './database.js';
import { isTableField, type DocTypeMeta } from './meta.js';
import type { Site } from './site.js';

/** html_utils.py `acceptable_elements` + the extra tags sanitize_html allows (svg/mathml left out). */
const ALLOWED = new Set(
  (
    'a abbr acronym address area article aside audio b big blockquote br button canvas caption center cite code col colgroup ' +
    'command datagrid datalist dd del details dfn dialog dir div dl dt em event-source fieldset figcaption figure footer font ' +
    'form header h1 h2 h3 h4 h5 h6 hr i img input ins keygen kbd label legend li m map menu meter multicol nav nextid ol ' +
    'output optgroup option p pre progress q s samp section select small sound source spacer span strike strong sub sup ' +
    'table tbody td textarea time tfoot th thead tr tt u ul var video html head meta link body style o:p svg math'
  ).split(' '),
);

const SKIP_TYPES = new Set(['Attach', 'Attach Image', 'Barcode', 'Code']);
/** A start or end tag as html.parser sees one: `<` then a letter (or `/` and a letter). */
const TAG = /<\/?([A-Za-z][A-Za-z0-9:_-]*)(?:\s[^<>]*)?\/?>/;
const COMMENT = /<!--[\s\S]*?-->/g;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function escapeText(text: string): string {
  return text
    .replace(/&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** `sanitize_html(html)`. */
export function sanitizeHtml(html: string): string {
  if (isJson(html)) return html;
  if (!TAG.test(html)) return html;
  const out: string[] = [];
  let at = 0;
  // Comments are kept (strip_comments=False); tags of the allow list kept, others escaped.
  const tokens = /<!--[\s\S]*?-->|<\/?([A-Za-z][A-Za-z0-9:_-]*)(?:\s[^<>]*)?\/?>/g;
  for (let m = tokens.exec(html); m; m = tokens.exec(html)) {
    out.push(escapeText(html.slice(at, m.index)));
    const tag = m[1]?.toLowerCase();
    out.push(m[0].startsWith('<!--') || (tag && ALLOWED.has(tag)) ? m[0] : escapeText(m[0]));
    at = m.index + m[0].length;
  }
  out.push(escapeText(html.slice(at)));
  return out.join('');
}

function sanitizeRow(meta: DocTypeMeta, doc: Doc, docstatus: number): void {
  for (const df of meta.fields) {
    if (isTableField(df)) continue;
    const value = doc[df.fieldname];
    if (!value || typeof value !== 'string' || (!value.includes('<') && !value.includes('>'))) continue;
    // Markdown without any tag is converted elsewhere.
    if (value.includes('<!-- markdown -->') && !TAG.test(value.replace(COMMENT, ''))) continue;
    if (df.ignore_xss_filter) continue;
    if (['Data', 'Small Text', 'Text'].includes(String(df.fieldtype)) && df.options === 'Email') continue;
    if (SKIP_TYPES.has(String(df.fieldtype))) continue;
    if (docstatus === 2 || (docstatus === 1 && !df.allow_on_submit)) continue;
    doc[df.fieldname] = sanitizeHtml(value);
  }
}

/** `_sanitize_content` of a document and its child rows (document.py `_validate`). */
export function sanitizeContent(site: Site, meta: DocTypeMeta, doc: Doc): void {
  if (site.installing) return;
  const docstatus = Number(doc.docstatus ?? 0);
  sanitizeRow(meta, doc, docstatus);
  for (const tf of meta.fields.filter(isTableField)) {
    const childMeta = site.meta(String(tf.options));
    if (!childMeta) continue;
    for (const row of (doc[tf.fieldname] as Doc[]) ?? []) if (row && typeof row === 'object') sanitizeRow(childMeta, row, docstatus);
  }
}
