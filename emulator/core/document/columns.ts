/**
 * Columns a table has beyond its DocType's fields. frappe/database/mariadb/framework_mariadb.sql
 * [v15] creates the core tables by hand before any DocType JSON is synced, and a schema sync adds
 * columns but never drops one: tabDocField keeps `show_preview_popup` (int NOT NULL DEFAULT 0),
 * which v15's docfield.json no longer has. A row read from the table carries it — DocField is one
 * of Meta's `special_doctypes`, whose valid columns are the table's columns (frappe/model/meta.py
 * `get_valid_columns`) — while a row built in memory from what a request sent has it as None, which
 * the answer drops (recordings doctype-get / doctype-put vs doctype-insert-custom).
 */
import type { DocField } from '../meta.js';

const TABLE_COLUMNS: Record<string, DocField[]> = {
  DocField: [{ fieldname: 'show_preview_popup', fieldtype: 'Check', default: '0' }],
};

export function tableOnlyColumns(doctype: string): DocField[] {
  return TABLE_COLUMNS[doctype] ?? [];
}
