/**
 * A site's database: one table per DocType, rows keyed by name, child rows kept inside
 * their parent's table fields (Frappe keeps them in `tab<Child>`; only the parent path
 * reaches them, which is all the REST API allows).
 *
 * Every request runs in a transaction like Frappe's (frappe/app.py: commit on POST/PUT/DELETE
 * success, rollback otherwise): writes record an undo entry, and a failed request rolls
 * back, including naming-series counters — so a rejected insert does not burn a number.
 */
export type Doc = Record<string, unknown>;

type Undo = () => void;

export class Database {
  private readonly tables = new Map<string, Map<string, Doc>>();
  private readonly series = new Map<string, number>();
  private undo: Undo[] | null = null;
  private afterCommit: (() => void)[] = [];

  table(doctype: string): Map<string, Doc> {
    let t = this.tables.get(doctype);
    if (!t) {
      t = new Map();
      this.tables.set(doctype, t);
    }
    return t;
  }

  /** A deep copy: callers may mutate what they get without touching the stored row. */
  get(doctype: string, name: string): Doc | undefined {
    const row = this.tables.get(doctype)?.get(name);
    return row ? structuredClone(row) : undefined;
  }

  exists(doctype: string, name: string): boolean {
    return this.tables.get(doctype)?.has(name) ?? false;
  }

  /** Rows in insertion order (the order InnoDB returns for a full scan by primary key is name order; see query.ts). */
  all(doctype: string): Doc[] {
    return [...(this.tables.get(doctype)?.values() ?? [])];
  }

  /** Read-only access without copying, for the query engine. */
  scan(doctype: string): Iterable<Doc> {
    return this.tables.get(doctype)?.values() ?? [];
  }

  put(doctype: string, name: string, doc: Doc): void {
    const t = this.table(doctype);
    const before = t.get(name);
    t.set(name, structuredClone(doc));
    this.record(() => {
      if (before) t.set(name, before);
      else t.delete(name);
    });
  }

  remove(doctype: string, name: string): void {
    const t = this.table(doctype);
    const before = t.get(name);
    if (!before) return;
    t.delete(name);
    this.record(() => {
      t.set(name, before);
    });
  }

  /** `tabSeries`: next value of a naming-series prefix (frappe/model/naming.py `getseries` [v15]). */
  nextSeries(prefix: string): number {
    const current = this.series.get(prefix) ?? 0;
    this.series.set(prefix, current + 1);
    this.record(() => {
      if (current === 0) this.series.delete(prefix);
      else this.series.set(prefix, current);
    });
    return current + 1;
  }

  /** `revert_series_if_last`: wind `prefix` back when `count` is its current value. */
  revertSeries(prefix: string, count: number): void {
    const current = this.series.get(prefix);
    if (current !== count) return;
    this.series.set(prefix, current - 1);
    this.record(() => {
      this.series.set(prefix, current);
    });
  }

  /** Undo work kept outside the tables (passwords) if the transaction rolls back. */
  onRollback(fn: () => void): void {
    this.record(fn);
  }

  begin(): void {
    this.undo = [];
    this.afterCommit = [];
  }

  /** Work that only happens if the transaction commits (realtime after_commit, for one). */
  onCommit(fn: () => void): void {
    if (this.undo) this.afterCommit.push(fn);
    else fn();
  }

  commit(): void {
    const pending = this.afterCommit;
    this.undo = null;
    this.afterCommit = [];
    for (const fn of pending) fn();
  }

  rollback(): void {
    const undo = this.undo ?? [];
    this.undo = null;
    this.afterCommit = [];
    for (let i = undo.length - 1; i >= 0; i--) undo[i]();
  }

  get inTransaction(): boolean {
    return this.undo !== null;
  }

  clear(): void {
    this.tables.clear();
    this.series.clear();
    this.undo = null;
    this.afterCommit = [];
  }

  private record(fn: Undo): void {
    this.undo?.push(fn);
  }
}
