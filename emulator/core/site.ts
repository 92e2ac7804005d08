/**
 * One Frappe site: its own database, users, API keys, sessions and System Settings time zone
 * (a bench hosts many; frappe/app.py picks one per request).
 */
import { randomBytes } from 'node:crypto';
import { Database, type Doc } from './database.js';
import { Clock, formatDatetime, wallClockIn, type Micros } from './datetime.js';
import {
  loadStandardMetas,
  placeCustomFields,
  type DocField,
  type DocPerm,
  type DocTypeMeta,
} from './meta.js';

export interface Session {
  sid: string;
  user: string;
  csrfToken?: string;
  userType: string;
}

export interface RealtimeMessage {
  event: string;
  message: unknown;
  room: string;
}

export type RealtimeSink = (site: string, msg: RealtimeMessage) => void;

/** Keys of the DocType record that carry meta properties (everything but its child tables). */
const DOCTYPE_TABLES = new Set(['fields', 'permissions', 'actions', 'links', 'states']);

export class Site {
  readonly db = new Database();
  readonly sessions = new Map<string, Session>();
  private metaCache = new Map<string, DocTypeMeta>();
  /** Requests per `METHOD path-template`, read by tests and benchmarks through /__emulator. */
  readonly requestCounts = new Map<string, number>();
  /** `__Auth`: Password field values, kept apart from the documents (frappe/utils/password.py). */
  private readonly passwords = new Map<string, string>();
  /** Set while the emulator seeds or installs records itself, where Frappe would run as Administrator with flags.in_install. */
  installing = false;

  constructor(
    readonly name: string,
    readonly clock: Clock,
    private readonly sink: RealtimeSink,
  ) {}

  // ---- time ----------------------------------------------------------------------

  timeZone(): string {
    const settings = this.db.get('System Settings', 'System Settings');
    return (settings?.time_zone as string) || 'Asia/Kolkata';
  }

  /** `frappe.utils.now_datetime()`: naive wall-clock time in the site's time zone. */
  nowMicros(): Micros {
    return wallClockIn(this.timeZone(), this.clock.nowEpochMicros());
  }

  /** `frappe.utils.now()`: `YYYY-MM-DD HH:MM:SS.ffffff`. */
  now(): string {
    return formatDatetime(this.nowMicros());
  }

  today(): string {
    return this.now().slice(0, 10);
  }

  // ---- meta ----------------------------------------------------------------------

  /**
   * `frappe.clear_cache(doctype=…)` → `clear_doctype_cache` (frappe/frappe:frappe/cache_manager.py
   * [v15]): the cached meta of that DocType and of the DocTypes that hold it as a child table;
   * without a DocType, every meta. Nothing else drops a cached meta, so what a DocType's cached
   * meta holds (its Custom DocPerms included) stays until one of these runs for it.
   */
  invalidateMeta(doctype?: string): void {
    if (doctype === undefined) return this.metaCache.clear();
    this.metaCache.delete(doctype);
    for (const [name, meta] of this.metaCache) {
      if (meta.fields.some((f) => (f.fieldtype === 'Table' || f.fieldtype === 'Table MultiSelect') && f.options === doctype)) this.metaCache.delete(name);
    }
  }

  hasDocType(doctype: string): boolean {
    return this.db.exists('DocType', doctype);
  }

  /** `frappe.get_meta(doctype)`; throws DoesNotExistError through the caller when missing. */
  meta(doctype: string): DocTypeMeta | undefined {
    const cached = this.metaCache.get(doctype);
    if (cached) return cached;
    const record = this.db.get('DocType', doctype);
    if (!record) return undefined;
    const meta = this.buildMeta(record);
    this.metaCache.set(doctype, meta);
    return meta;
  }

  private buildMeta(record: Doc): DocTypeMeta {
    const meta: DocTypeMeta = { name: record.name as string, fields: [], permissions: [] };
    for (const [k, v] of Object.entries(record)) {
      if (DOCTYPE_TABLES.has(k) || v === null || v === undefined) continue;
      meta[k] = v;
    }
    const standard = ((record.fields as Doc[]) ?? []).map((row) => stripRow(row) as DocField);
    const custom = this.db
      .all('Custom Field')
      .filter((cf) => cf.dt === meta.name)
      .sort((a, b) => String(a.creation).localeCompare(String(b.creation)))
      .map((cf) => ({ ...(stripRow(cf) as DocField), is_custom_field: 1 }));
    meta.fields = placeCustomFields(standard, custom);
    // Property Setters override DocType/DocField properties (frappe/model/meta.py `apply_property_setters`).
    for (const ps of this.db.all('Property Setter')) {
      if (ps.doc_type !== meta.name) continue;
      const value = castProperty(ps.value as string, ps.property_type as string);
      if (ps.doctype_or_field === 'DocType') meta[ps.property as string] = value;
      else {
        const f = meta.fields.find((x) => x.fieldname === ps.field_name);
        if (f) f[ps.property as string] = value;
      }
    }
    // Custom DocPerm rows replace the DocType's DocPerms as a whole once any exist
    // (frappe/frappe:frappe/permissions.py `get_doctype_roles` / `get_valid_perms` [v15]).
    const customPerms = this.db.all('Custom DocPerm').filter((p) => p.parent === meta.name);
    meta.permissions = (customPerms.length ? customPerms : ((record.permissions as Doc[]) ?? [])).map(
      (p) => stripRow(p) as unknown as DocPerm,
    );
    return meta;
  }

  setPassword(doctype: string, name: string, fieldname: string, value: string): void {
    const key = `${doctype}\u0000${name}\u0000${fieldname}`;
    const before = this.passwords.get(key);
    this.passwords.set(key, value);
    this.db.onRollback(() => {
      if (before === undefined) this.passwords.delete(key);
      else this.passwords.set(key, before);
    });
  }

  getPassword(doctype: string, name: string, fieldname: string): string | undefined {
    return this.passwords.get(`${doctype}\u0000${name}\u0000${fieldname}`);
  }

  // ---- users ---------------------------------------------------------------------

  /** Roles of a user, plus the automatic ones (frappe/permissions.py AUTOMATIC_ROLES, `frappe.get_roles` [v15]). */
  rolesOf(user: string): string[] {
    if (user === 'Guest') return ['Guest'];
    const doc = this.db.get('User', user);
    const roles = ((doc?.roles as Doc[]) ?? []).map((r) => r.role as string);
    if (user === 'Administrator') {
      // Administrator has every role (frappe.get_roles returns all roles for Administrator).
      return ['Administrator', 'Guest', 'All', ...this.db.all('Role').map((r) => r.name as string)];
    }
    const auto = ['All', 'Guest'];
    if ((doc?.user_type ?? 'System User') === 'System User') auto.push('Desk User');
    return [...new Set([...roles, ...auto])];
  }

  userType(user: string): string | null {
    if (user === 'Guest') return 'Website User';
    return ((this.db.get('User', user)?.user_type as string) ?? null) || null;
  }

  newSession(user: string): Session {
    const session: Session = {
      sid: randomBytes(28).toString('hex').slice(0, 56),
      user,
      userType: this.userType(user) ?? 'Website User',
    };
    this.sessions.set(session.sid, session);
    return session;
  }

  // ---- realtime --------------------------------------------------------------------

  /**
   * `frappe.publish_realtime(..., after_commit=True)`: queued until the request's transaction
   * commits and dropped on rollback (frappe/frappe:frappe/realtime.py [v15]).
   */
  publish(event: string, message: unknown, room: string): void {
    this.db.onCommit(() => this.sink(this.name, { event, message, room }));
  }

  /**
   * `frappe.publish_realtime(...)` with after_commit False (its default): `emit_via_redis` at once,
   * during the request, whatever happens to its transaction (frappe/frappe:frappe/realtime.py [v15]).
   */
  publishNow(event: string, message: unknown, room: string): void {
    this.sink(this.name, { event, message, room });
  }

  countRequest(key: string): void {
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
  }

  // ---- bootstrap ---------------------------------------------------------------------

  /** Install the shipped DocTypes as DocType records, like `bench install-app` syncing JSON. */
  installStandardDocTypes(): void {
    const now = this.now();
    for (const meta of loadStandardMetas()) {
      const { fields, permissions, _source, ...props } = meta;
      void _source;
      const record: Doc = {
        ...props,
        doctype: 'DocType',
        name: meta.name,
        owner: 'Administrator',
        creation: now,
        modified: now,
        modified_by: 'Administrator',
        docstatus: 0,
        idx: 0,
        custom: 0,
        fields: fields.map((f, i) => childRow('DocField', meta.name, 'fields', i, f, now)),
        permissions: permissions.map((p, i) => childRow('DocPerm', meta.name, 'permissions', i, p, now)),
      };
      delete record._app;
      this.db.put('DocType', meta.name, record);
    }
    this.invalidateMeta();
  }
}

function childRow(doctype: string, parent: string, parentfield: string, i: number, data: object, now: string): Doc {
  return {
    ...data,
    doctype,
    name: `${parent}-${parentfield}-${i + 1}`.replace(/\s+/g, '_').toLowerCase(),
    parent,
    parenttype: 'DocType',
    parentfield,
    idx: i + 1,
    owner: 'Administrator',
    creation: now,
    modified: now,
    modified_by: 'Administrator',
    docstatus: 0,
  };
}

const ROW_KEYS = new Set([
  'doctype',
  'name',
  'owner',
  'creation',
  'modified',
  'modified_by',
  'docstatus',
  'idx',
  'parent',
  'parentfield',
  'parenttype',
  'dt',
]);

/** A DocField/Custom Field/DocPerm record reduced to its meta properties. */
function stripRow(row: Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (ROW_KEYS.has(k) || v === null || v === undefined || v === '' || v === 0) continue;
    out[k] = v;
  }
  // `parent` of a DocPerm is the DocType, and that is all we need; `role` etc. stay.
  return out;
}

function castProperty(value: string, type: string): unknown {
  if (['Check', 'Int'].includes(type)) return Number(value) || 0;
  return value;
}
