/**
 * Frappe core controllers the product meets (each cites the file it mirrors, [v15]).
 */
import type { Doc } from '../../core/database.js';
import { dbSet } from '../../core/db_set.js';
import { appendChild, findName, msgprint, notifyUpdate, registerHook, type Ctx } from '../../core/document.js';
import { FrappeError, frappeThrow } from '../../core/errors.js';
import { isValidTimeZone, parseDatetime } from '../../core/datetime.js';
import { generateHash } from '../../core/naming.js';
import { isTableField } from '../../core/meta.js';

const BREAK_TYPES = new Set(['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Fold', 'Heading', 'Image']);
/** frappe/model/__init__.py `default_fields` + `child_table_fields` + `optional_fields`: names a field may not take. */
const RESERVED = new Set([
  'doctype', 'name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx',
  'parent', 'parentfield', 'parenttype', '_user_tags', '_comments', '_assign', '_liked_by', '_seen',
]);

export function registerFrappeCore(): void {
  // ---- DocType (frappe/core/doctype/doctype/doctype.py) ----------------------------
  registerHook('DocType', 'validate', ({ ctx, doc }) => {
    // `validate`: outside developer mode only custom DocTypes may be created or changed.
    if (!doc.custom && !ctx.site.installing) {
      throw new FrappeError('ValidationError', {
        message: "Not in Developer Mode! Set in site_config.json or make 'Custom' DocType.",
        title: 'Not in Developer Mode',
        excText: "Not in Developer Mode! Set in site_config.json or make 'Custom' DocType.",
      });
    }
    // validate_permissions → check_single (frappe/core/doctype/doctype/doctype.py [v15]): a Single's
    // rows cannot report, import or export; said once per row (recording doctype-insert-single).
    if (doc.issingle) {
      for (const perm of (doc.permissions as Doc[] | undefined) ?? []) {
        if (!Number(perm.report)) continue;
        msgprint(ctx, 'Report cannot be set for Single types');
        perm.report = 0;
        perm.import = 0;
        perm.export = 0;
      }
    }
    const seen = new Set<string>();
    for (const f of (doc.fields as Doc[]) ?? []) {
      const fieldname = String(f.fieldname ?? '').toLowerCase();
      if (!fieldname && !BREAK_TYPES.has(String(f.fieldtype))) frappeThrow(`Fieldname is required in row ${f.idx}`);
      if (fieldname && seen.has(fieldname)) frappeThrow(`Fieldname ${fieldname} appears multiple times in rows ${f.idx}`);
      if (fieldname) seen.add(fieldname);
      if (RESERVED.has(fieldname)) frappeThrow(`Fieldname ${fieldname} is restricted`, 'InvalidFieldNameError');
      if (['Link', 'Table', 'Table MultiSelect'].includes(String(f.fieldtype)) && !f.options) {
        frappeThrow(`Options required for ${f.fieldtype} type field ${fieldname} in row ${f.idx}`);
      }
      if (isTableField({ fieldname, fieldtype: String(f.fieldtype) }) && !ctx.site.meta(String(f.options))?.istable) {
        frappeThrow(`Options for ${fieldname} must be a child table DocType, not ${f.options}`);
      }
    }
  });
  const invalidate = ({ ctx }: { ctx: Ctx }) => ctx.site.invalidateMeta();
  // Each clears the cache of the DocType it customises (`frappe.clear_cache(doctype=…)`):
  // doctype.py on_update / on_trash, custom_field.py on_update / on_trash, property_setter.py
  // validate / on_trash, and custom_docperm.py on_update only — it has no on_trash, so deleting a
  // Custom DocPerm leaves the cached meta (and its rules) in force until something else clears it,
  // e.g. saving the DocType (recordings restricted-insert-after-custom-docperm-delete, doctype-put).
  const clearFor = (field: string) => ({ ctx, doc }: { ctx: Ctx; doc: Doc }) => ctx.site.invalidateMeta(String(doc[field]));
  registerHook('DocType', 'on_update', clearFor('name'));
  registerHook('DocType', 'after_delete', clearFor('name'));
  registerHook('Custom Field', 'on_update', clearFor('dt'));
  registerHook('Custom Field', 'after_delete', clearFor('dt'));
  registerHook('Property Setter', 'on_update', clearFor('doc_type'));
  registerHook('Property Setter', 'after_delete', clearFor('doc_type'));
  registerHook('Custom DocPerm', 'on_update', clearFor('parent'));

  // ---- Custom Field (frappe/custom/doctype/custom_field/custom_field.py) -------------
  registerHook('Custom Field', 'autoname', ({ doc }) => {
    setCustomFieldname(doc);
    doc.name = `${doc.dt}-${doc.fieldname}`;
  });
  registerHook('Custom Field', 'validate', ({ ctx, doc, before }) => {
    setCustomFieldname(doc);
    const meta = ctx.site.meta(String(doc.dt));
    if (!meta) return; // the Link check reports a missing dt
    if (!before) {
      const clash = meta.fields.find((f) => f.fieldname === doc.fieldname);
      if (clash) frappeThrow(`A field with the name <strong>${doc.fieldname}</strong> already exists in ${doc.dt}`);
    }
    if (['Link', 'Table', 'Table MultiSelect'].includes(String(doc.fieldtype)) && !doc.options) {
      frappeThrow(`Options required for ${doc.fieldtype} type field ${doc.fieldname}`);
    }
    if (isTableField({ fieldname: String(doc.fieldname), fieldtype: String(doc.fieldtype) }) && !ctx.site.meta(String(doc.options))?.istable) {
      frappeThrow(`Options for ${doc.fieldname} must be a child table DocType, not ${doc.options}`);
    }
    // custom_field.py validate: `if self.insert_after and self.insert_after in fieldnames:
    // self.idx = fieldnames.index(self.insert_after) + 1` (recording custom-field-insert: idx 5).
    const fieldnames = meta.fields.map((f) => f.fieldname);
    if (doc.insert_after && fieldnames.includes(String(doc.insert_after))) doc.idx = fieldnames.indexOf(String(doc.insert_after)) + 1;
  });

  // ---- Property Setter (frappe/custom/doctype/property_setter/property_setter.py) -----
  registerHook('Property Setter', 'autoname', ({ doc }) => {
    doc.name = [doc.doc_type, doc.field_name, doc.row_name, doc.property].filter(Boolean).join('-');
  });

  // ---- User (frappe/core/doctype/user/user.py) ----------------------------------------
  registerHook('User', 'autoname', ({ doc }) => {
    doc.email = String(doc.email ?? '').trim().toLowerCase();
    doc.name = doc.email;
  });
  registerHook('User', 'validate', ({ ctx, doc, before }) => {
    doc.full_name = [doc.first_name, doc.middle_name, doc.last_name].filter(Boolean).join(' ') || null;
    // set_system_user: any role with desk access makes a System User.
    if (doc.name !== 'Administrator' && doc.name !== 'Guest') {
      const roles = ((doc.roles as Doc[]) ?? []).map((r) => String(r.role));
      const desk = roles.some((r) => {
        const role = ctx.site.db.get('Role', r);
        return role && role.desk_access !== 0 && !['Guest', 'All', 'Desk User'].includes(r);
      });
      doc.user_type = desk ? 'System User' : doc.user_type === 'System User' || !doc.user_type ? 'Website User' : doc.user_type;
    }
    if (doc.time_zone && !isValidTimeZone(String(doc.time_zone))) frappeThrow(`Invalid time zone ${doc.time_zone}`);
    if (!before && doc.name !== 'Administrator' && doc.name !== 'Guest') {
      // validate_username: a new user without one gets `frappe.scrub(first_name)`; set_time_zone:
      // the system's zone; and the system language (recording user-insert-sales-user: username
      // "rec_684ooa_sales", language "en", time_zone "Asia/Kolkata").
      if (!doc.username && doc.first_name) {
        const base = String(doc.first_name).trim().toLowerCase().replace(/[ -]/g, '_');
        // username_exists → a number appended until it is free (user.py validate_username).
        const taken = new Set(ctx.site.db.all('User').map((u) => String(u.username ?? '')));
        let username = base;
        for (let n = 1; taken.has(username); n++) username = `${base}${n}`;
        doc.username = username;
      }
      if (!doc.time_zone) doc.time_zone = ctx.site.timeZone();
      if (!doc.language) doc.language = String(ctx.site.db.get('System Settings', 'System Settings')?.language ?? 'en');
    }
    // validate: `if self.name not in STANDARD_USERS and not self.get_social_login_userid("frappe"):
    // self.set_social_login_userid("frappe", frappe.generate_hash(length=39))` — every user gets a
    // "frappe" social login row (recording user-insert-sales-user).
    const logins = (doc.social_logins as Doc[] | undefined) ?? [];
    if (doc.name !== 'Administrator' && doc.name !== 'Guest' && !logins.some((l) => l.provider === 'frappe' && l.userid)) {
      appendChild(ctx, doc, 'social_logins', 'User Social Login', { provider: 'frappe', userid: generateHash(39) });
    }
  });
  registerHook('User', 'before_save', ({ ctx, doc }) => {
    // `new_password` never stays on the document; it becomes the login password (update_password).
    if (doc.new_password && !/^\*+$/.test(String(doc.new_password))) {
      ctx.site.setPassword('User', String(doc.name), 'password', String(doc.new_password));
    }
    // The Password column keeps "" once the password moved to __Auth (recording user-insert-sales-user).
    doc.new_password = '';
  });

  // ---- Role ---------------------------------------------------------------------------
  registerHook('Role', 'on_update', invalidate);

  // ---- System Settings (frappe/core/doctype/system_settings/system_settings.py) ---------
  registerHook('System Settings', 'validate', ({ doc }) => {
    if (doc.time_zone && !isValidTimeZone(String(doc.time_zone))) frappeThrow(`Invalid time zone ${doc.time_zone}`);
  });

  // ---- Contact (frappe/contacts/doctype/contact/contact.py) -----------------------------
  registerHook('Contact', 'autoname', ({ ctx, doc }) => {
    let name = [doc.first_name, doc.middle_name, doc.last_name].filter(Boolean).join(' ').trim() || String(doc.company_name ?? '').trim();
    const link = ((doc.links as Doc[]) ?? [])[0];
    if (link?.link_name) name = `${name}-${String(link.link_name).trim()}`;
    doc.name = appendNumberIfExists(ctx, 'Contact', name || generateHash());
  });
  // ---- Address (frappe/contacts/doctype/address/address.py) ----------------------------
  // autoname: "<address_title>-<address_type>" (the title defaults to the first link's name),
  // "-1", "-2", … when taken (recording address-insert-with-links).
  registerHook('Address', 'autoname', ({ ctx, doc }) => {
    const links = (doc.links as Doc[]) ?? [];
    if (!doc.address_title && links[0]?.link_name) doc.address_title = links[0].link_name;
    if (!doc.address_title) frappeThrow('Address Title is mandatory.');
    const base = `${String(doc.address_title).trim()}-${String(doc.address_type ?? '').trim()}`;
    doc.name = findName(ctx.site, 'Address', base) ? appendNumberIfExists(ctx, 'Address', base) : base;
  });
  registerHook('Address', 'validate', ({ ctx, doc }) => setLinkTitles(ctx, doc));

  registerHook('Contact', 'validate', ({ ctx, doc }) => setLinkTitles(ctx, doc));
  registerHook('Contact', 'validate', ({ doc }) => {
    doc.full_name = [doc.first_name, doc.middle_name, doc.last_name].filter(Boolean).join(' ') || null;
    // set_primary_email / set_primary("phone"/"mobile_no"): the primary row, else cleared to ""
    // (setattr(self, fieldname, ""): recording contact-insert-with-tables has mobile_no "").
    const emails = (doc.email_ids as Doc[]) ?? [];
    const primaryEmail = emails.find((e) => e.is_primary) ?? (emails.length === 1 ? emails[0] : undefined);
    if (emails.length === 1) emails[0].is_primary = 1;
    doc.email_id = primaryEmail ? primaryEmail.email_id : emails.length ? doc.email_id ?? '' : '';
    const phones = (doc.phone_nos as Doc[]) ?? [];
    const mobile = phones.find((p) => p.is_primary_mobile_no);
    const phone = phones.find((p) => p.is_primary_phone);
    doc.mobile_no = mobile ? mobile.phone : '';
    doc.phone = phone ? phone.phone : '';
    // `if self.email_id and not self.image: self.image = has_gravatar(self.email_id)` — "" when
    // there is no Gravatar (the emulator reaches none), as in the recording.
    if (doc.email_id && !doc.image) doc.image = '';
  });

  // ---- Notification Log (frappe/desk/doctype/notification_log/notification_log.py) -------
  registerHook('Notification Log', 'after_insert', ({ ctx, doc }) => {
    // publish_realtime("notification", after_commit=True, user=for_user) → room user:<for_user>.
    if (doc.for_user) ctx.site.publish('notification', {}, `user:${doc.for_user}`);
  });

  // ---- Communication (frappe/core/doctype/communication/communication.py) ----------------
  // `notify_change`: the reference document's timeline hears about the mail (docinfo_update):
  // "add" from after_insert, "delete" from on_trash; on_update does not call it ("update" comes
  // from set_delivery_status, which the emulator has no mail transport for) — one docinfo_update
  // per insert (recordings rt-communication-received, rt-communication-sent).
  const notifyChange = (ctx: Ctx, doc: Doc, action: string) => {
    if (doc.reference_doctype && doc.reference_name) {
      // `{"doc": self.as_dict(), ...}`: the document as it is now, though sent after commit.
      ctx.site.publish('docinfo_update', { doc: structuredClone(doc), key: 'communications', action }, `doc:${doc.reference_doctype}/${doc.reference_name}`);
    }
  };
  registerHook('Communication', 'validate', ({ ctx, doc, before }) => {
    if (before) return;
    // set_status (new only): "Linked" when it references a document (recordings
    // communication-insert-received / -sent), else "Open" for a Communication, else "Closed".
    doc.status = doc.reference_doctype && doc.reference_name ? 'Linked' : doc.communication_type === 'Communication' ? 'Open' : 'Closed';
    setSenderFullName(ctx, doc);
    setTimelineLinks(ctx, doc);
  });
  registerHook('Communication', 'after_insert', ({ ctx, doc }) => notifyChange(ctx, doc, 'add'));
  registerHook('Communication', 'on_update', ({ ctx, doc }) => updateParentOnCommunication(ctx, doc));
  registerHook('Communication', 'on_trash', ({ ctx, doc }) => notifyChange(ctx, doc, 'delete'));
}

/**
 * frappe/contacts/address_and_contact.py `set_link_title`: each Dynamic Link row without a
 * link_title gets the linked document's title (its title_field, else its name).
 */
function setLinkTitles(ctx: Ctx, doc: Doc): void {
  for (const link of (doc.links as Doc[]) ?? []) {
    if (link.link_title || !link.link_doctype || !link.link_name) continue;
    const name = findName(ctx.site, String(link.link_doctype), link.link_name);
    const linked = name ? ctx.site.db.get(String(link.link_doctype), name) : undefined;
    const titleField = ctx.site.meta(String(link.link_doctype))?.title_field;
    link.link_title = (titleField && linked?.[titleField]) || link.link_name;
  }
}


/**
 * Communication `set_sender_full_name`: the name in the address, else the User's full name, else
 * the matching Contact's first_name + last_name (no space between them: "rec-684ooa AdaLovelace"
 * in recording communication-insert-received), else the address itself.
 */
function setSenderFullName(ctx: Ctx, doc: Doc): void {
  if (doc.sender_full_name || !doc.sender) return;
  const text = String(doc.sender).trim();
  const email = parseAddr(text);
  const named = /^(.*?)\s*<[^>]+>$/.exec(text)?.[1]?.replace(/^"|"$/g, '').trim();
  if (named && named.toLowerCase() !== email) {
    doc.sender_full_name = named;
    return;
  }
  const user = ctx.site.db.all('User').find((u) => String(u.name).toLowerCase() === email);
  if (user?.full_name) {
    doc.sender_full_name = user.full_name;
    return;
  }
  const contact = ctx.site.db.all('Contact').find((c) => String(c.email_id ?? '').toLowerCase() === email);
  const fromContact = contact ? `${contact.first_name ?? ''}${contact.last_name ?? ''}` : '';
  doc.sender_full_name = fromContact || email;
}

/**
 * Communication `set_timeline_links` (new only): for every Contact whose Contact Email is among
 * the sender, recipients, cc and bcc, that Contact's own Dynamic Links and then the Contact itself,
 * without duplicates — recording communication-insert-received: Customer, then Contact.
 */
function setTimelineLinks(ctx: Ctx, doc: Doc): void {
  const addresses = [doc.sender, doc.recipients, doc.cc, doc.bcc]
    .flatMap((v) => String(v ?? '').split(','))
    .map(parseAddr)
    .filter(Boolean);
  const have = new Set(((doc.timeline_links as Doc[]) ?? []).map((l) => `${l.link_doctype}\u0000${l.link_name}`));
  const add = (link_doctype: string, link_name: string) => {
    const key = `${link_doctype}\u0000${link_name}`;
    if (have.has(key)) return;
    have.add(key);
    appendChild(ctx, doc, 'timeline_links', 'Communication Link', { link_doctype, link_name });
  };
  for (const email of addresses) {
    const contact = ctx.site.db.all('Contact').find((c) => ((c.email_ids as Doc[]) ?? []).some((e) => String(e.email_id ?? '').toLowerCase() === email));
    if (!contact) continue;
    for (const link of (contact.links as Doc[]) ?? []) if (link.link_doctype && link.link_name) add(String(link.link_doctype), String(link.link_name));
    add('Contact', String(contact.name));
  }
}

/** `append_number_if_name_exists`: "X", then "X-1", "X-2", … */
export function appendNumberIfExists(ctx: Ctx, doctype: string, name: string): string {
  if (!findName(ctx.site, doctype, name)) return name;
  let n = 1;
  while (findName(ctx.site, doctype, `${name}-${n}`)) n++;
  return `${name}-${n}`;
}

/** `CustomField.set_fieldname`: derived from the label (`custom_` + scrubbed) unless given; lower-cased. */
function setCustomFieldname(doc: Doc): void {
  if (!doc.fieldname) {
    let label = String(doc.label ?? '');
    if (!label) {
      if (BREAK_TYPES.has(String(doc.fieldtype))) label = `${doc.fieldtype}_${generateHash(5)}`;
      else frappeThrow('Label is mandatory');
    }
    // filter(lambda x: x.isdigit() or x.isalpha() or "_", …): Unicode letters and digits survive.
    const scrubbed = label.replace(/ /g, '_').replace(/[^\p{L}\p{N}_]/gu, '');
    doc.fieldname = `custom_${scrubbed}`;
  }
  doc.fieldname = String(doc.fieldname).toLowerCase();
  if (RESERVED.has(String(doc.fieldname))) doc.fieldname = `${doc.fieldname}1`;
}

/** `parse_addr`: the address out of `"Name <addr>"`, lower-cased for comparisons. */
export function parseAddr(value: unknown): string {
  const text = String(value ?? '').trim();
  return (/<([^>]+)>/.exec(text)?.[1] ?? text).trim().toLowerCase();
}

/** Controllers that define `on_communication_update(communication)` (Helpdesk's HD Ticket does). */
const communicationUpdaters = new Map<string, (ctx: Ctx, parent: Doc, comm: Doc) => void>();

export function registerCommunicationUpdater(doctype: string, fn: (ctx: Ctx, parent: Doc, comm: Doc) => void): void {
  communicationUpdaters.set(doctype, fn);
}

/**
 * `Communication.on_update` [v15] (frappe/core/doctype/communication/communication.py): a parent that
 * defines `on_communication_update` handles the mail itself; otherwise
 * `update_parent_document_on_communication` — status "Open" for a Received mail on a parent whose
 * Select status is "Replied", `update_first_response_time` (db_set `first_responded_on` and
 * `first_response_time` when the mail is a Sent "Communication" and its sender, or the session user,
 * is a System User), then `notify_update`. No controller runs, so CRM's SLA fields stay as they were.
 */
function updateParentOnCommunication(ctx: Ctx, comm: Doc): void {
  const dt = comm.reference_doctype as string | null;
  const dn = comm.reference_name as string | null;
  if (!dt || !dn) return;
  const meta = ctx.site.meta(dt);
  const parent = meta && ctx.site.db.get(dt, String(dn));
  if (!meta || !parent) return;
  const own = communicationUpdaters.get(dt);
  if (own) {
    own(ctx, parent, comm);
    return;
  }
  const statusField = meta.fields.find((f) => f.fieldname === 'status');
  const options = String(statusField?.options ?? '').split('\n');
  if (statusField && options.includes('Open') && parent.status === 'Replied' && comm.sent_or_received === 'Received') {
    dbSet(ctx, meta, parent, { status: 'Open' });
  }
  const hasField = (f: string) => meta.fields.some((x) => x.fieldname === f);
  if (hasField('first_response_time') && !parent.first_response_time) {
    const isSystemUser = (email: string) =>
      ctx.site.db.all('User').some((u) => String(u.email ?? '').toLowerCase() === email && u.enabled !== 0 && u.user_type === 'System User');
    const sessionIsSystem = ctx.site.db.get('User', ctx.user)?.user_type === 'System User';
    if ((isSystemUser(parseAddr(comm.sender)) || sessionIsSystem) && comm.sent_or_received === 'Sent' && comm.communication_type === 'Communication') {
      const respondedOn = String(comm.creation);
      if (hasField('first_responded_on')) dbSet(ctx, meta, parent, { first_responded_on: respondedOn });
      const seconds = ((parseDatetime(respondedOn) ?? 0) - (parseDatetime(String(parent.creation)) ?? 0)) / 1_000_000;
      dbSet(ctx, meta, parent, { first_response_time: Math.round(seconds * 100) / 100 });
    }
  }
  notifyUpdate(ctx, meta, parent);
}
