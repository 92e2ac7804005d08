/**
 * End-to-end behaviour of Frappe core as the apps meet it, over real HTTP and Socket.IO on
 * 127.0.0.1: Version rows (track_changes), Communication → parent first response (db_set),
 * Notification Log → `notification` to the user room, `doc_update` / `list_update` from
 * Document.notify_update, and CRM's Communication hook driven by FCRM Settings.
 *
 * Sources mirrored:
 *   frappe/frappe:frappe/model/document.py [v15] (save_version, notify_update, run_post_save_methods)
 *   frappe/frappe:frappe/core/doctype/version/version.py [v15] (set_diff / get_diff, for_insert)
 *   frappe/frappe:frappe/core/doctype/communication/communication.py [v15]
 *     (update_parent_document_on_communication, update_first_response_time)
 *   frappe/frappe:frappe/desk/doctype/notification_log/notification_log.py [v15] (after_insert)
 *   frappe/frappe:frappe/model/delete_doc.py [v15] (notify_update on delete)
 *   frappe/crm:crm/utils/__init__.py (on_communication_update, FCRM Settings toggles)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { RunningEmulator } from '../../emulator/server.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';
import {
  SITE,
  client,
  connect,
  control,
  login,
  nextEvent,
  record,
  setClock,
  start,
  subscribe,
  tokenSocketHeaders,
  type Client,
} from '../helpers/emulator.js';

interface KeyedUser {
  name: string;
  api_key: string;
  api_secret: string;
}

let emu: RunningEmulator;
/** System Manager + Sales Manager: a sidecar-like desk user with API keys. */
let adminUser: KeyedUser;
let admin: Client;
/** A plain CRM agent (Sales User → System User) whose address sends e-mails. */
let agent: KeyedUser;
/** Administrator, signed in with a password (the only user that may insert a Notification Log). */
let root: Client;
let rootSid = '';
const sockets: Socket[] = [];

async function keyedUser(email: string, roles: string[]): Promise<KeyedUser> {
  const u = await control(emu, `/sites/${SITE}/users`, { email, roles, generate_keys: true, password: 'pw' });
  return { name: u.name, api_key: u.api_key, api_secret: u.api_secret };
}

const tokenClient = (u: KeyedUser): Client => client(emu, { site: SITE, token: { key: u.api_key, secret: u.api_secret } });

async function tokenSocket(u: KeyedUser): Promise<Socket> {
  const s = await connect(emu, { headers: tokenSocketHeaders(emu, u.api_key, u.api_secret) });
  sockets.push(s);
  return s;
}

async function adminSessionSocket(): Promise<Socket> {
  const s = await connect(emu, { headers: { Origin: emu.url, Cookie: `sid=${rootSid}`, 'X-Frappe-Site-Name': SITE } });
  sockets.push(s);
  return s;
}

async function ok(p: Promise<{ status: number; body: any }>): Promise<any> {
  const res = await p;
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body.data ?? res.body.message ?? res.body;
}

async function versionsOf(doctype: string, name: string): Promise<any[]> {
  const res = await admin.list('Version', {
    filters: [['ref_doctype', '=', doctype], ['docname', '=', name]],
    fields: ['name', 'ref_doctype', 'docname', 'data', 'creation'],
    order_by: 'creation asc',
    limit_page_length: 100,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

async function newLead(fields: Record<string, unknown>): Promise<any> {
  return ok(admin.insert('CRM Lead', fields));
}

function communication(lead: string, fields: Record<string, unknown>): Promise<any> {
  return ok(
    admin.insert('Communication', {
      subject: 'Re: your enquiry',
      communication_medium: 'Email',
      communication_type: 'Communication',
      content: '<p>Thanks for reaching out.</p>',
      reference_doctype: 'CRM Lead',
      reference_name: lead,
      ...fields,
    }),
  );
}

beforeAll(async () => {
  // The demo data set brings the ERPNext masters a Sales Order needs and a CRM SLA
  // ("Lead Response SLA": status New, 2 h around the clock).
  // `serveSite` (bench serve --site): the realtime server's auth callback goes to the Origin URL
  // (http://127.0.0.1:<port>), which must resolve to this site (frappe/frappe realtime/utils.js get_url).
  emu = await start({ serveSite: SITE, sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  await setClock(emu, '2026-01-05T09:00:00Z');
  adminUser = await keyedUser('core-admin@example.com', ['System Manager', 'Sales Manager']);
  admin = tokenClient(adminUser);
  agent = await keyedUser('agent.smith@example.com', ['Sales User']);
  rootSid = await login(emu, 'Administrator', 'admin');
  root = client(emu, { site: SITE, sid: rootSid });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await emu?.close();
});

describe('Version (frappe/frappe:frappe/core/doctype/version/version.py, frappe/model/document.py save_version)', () => {
  // document.py save_version → version.py for_insert: no Version without flags.updater_reference
  it('writes no Version on insert, one per real change, none for an unchanged save', async () => {
    const lead = await newLead({ first_name: 'Vera', last_name: 'Version' });
    expect(await versionsOf('CRM Lead', lead.name)).toEqual([]);

    await ok(admin.update('CRM Lead', lead.name, { mobile_no: '+1 555 0199' }));
    let versions = await versionsOf('CRM Lead', lead.name);
    expect(versions).toHaveLength(1);
    expect(versions[0].ref_doctype).toBe('CRM Lead');
    expect(versions[0].docname).toBe(lead.name);
    const diff = JSON.parse(versions[0].data);
    expect(diff.changed).toContainEqual(['mobile_no', null, '+1 555 0199']);

    // An empty save and a save with the same value change nothing: set_diff returns False.
    await ok(admin.update('CRM Lead', lead.name, {}));
    await ok(admin.update('CRM Lead', lead.name, { mobile_no: '+1 555 0199' }));
    expect(await versionsOf('CRM Lead', lead.name)).toHaveLength(1);

    await ok(admin.update('CRM Lead', lead.name, { mobile_no: '+1 555 0200' }));
    versions = await versionsOf('CRM Lead', lead.name);
    expect(versions).toHaveLength(2);
    expect(JSON.parse(versions[1].data).changed).toContainEqual(['mobile_no', '+1 555 0199', '+1 555 0200']);
  });

  // document.py save_version: `if not getattr(self.meta, "track_changes", False): return`
  it('writes no Version for a DocType without track_changes (CRM Organization)', async () => {
    const org = await ok(admin.insert('CRM Organization', { organization_name: 'Versionless Ltd' }));
    await ok(admin.update('CRM Organization', org.name, { website: 'https://versionless.example' }));
    expect(await versionsOf('CRM Organization', org.name)).toEqual([]);
  });
});

describe('Communication on a CRM Lead (frappe/frappe:frappe/core/doctype/communication/communication.py)', () => {
  // communication.py update_first_response_time: db_set first_responded_on = communication.creation,
  // first_response_time = round(time_diff_in_seconds(creation, parent.creation), 2); no controller runs
  it('a Sent mail from an enabled System User sets first response via db_set, leaving sla_status alone', async () => {
    await setClock(emu, '2026-01-05T09:00:00Z');
    const lead = await newLead({ first_name: 'Cora', last_name: 'Comm', status: 'New' });
    expect(lead.sla).toBe('Lead Response SLA');
    expect(lead.sla_status).toBe('First Response Due');

    await control(emu, '/clock', { advance_seconds: 1800 });
    const comm = await communication(lead.name, { sent_or_received: 'Sent', sender: agent.name, recipients: 'cora@example.com' });

    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.first_responded_on).toBe(comm.creation);
    expect(after.first_response_time).toBe(1800);
    // db_set does not run before_save → apply_sla: the stored status is not recomputed.
    expect(after.sla_status).toBe('First Response Due');
    expect(after.communication_status).toBe('Open');
    expect(after.modified > lead.modified).toBe(true);
    // db_set writes no Version.
    expect(await versionsOf('CRM Lead', lead.name)).toEqual([]);
  });

  // communication.py update_first_response_time: only `sent_or_received == "Sent"` counts
  it('a Received mail does not set a first response', async () => {
    await setClock(emu, '2026-01-05T10:00:00Z');
    const lead = await newLead({ first_name: 'Rex', last_name: 'Received', status: 'New' });
    await control(emu, '/clock', { advance_seconds: 600 });
    await communication(lead.name, { sent_or_received: 'Received', sender: 'rex@customer.example', recipients: agent.name });
    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.first_responded_on).toBeUndefined();
    expect(after.first_response_time).toBeUndefined();
    expect(after.sla_status).toBe('First Response Due');
  });

  // communication.py [v15] update_first_response_time:
  //   `is_system_user(communication.sender) or frappe.get_cached_value("User", frappe.session.user, "user_type") == "System User"`
  it('a Sent mail posted by a System User session counts even when the sender address is no user', async () => {
    await setClock(emu, '2026-01-05T11:00:00Z');
    const lead = await newLead({ first_name: 'Sid', last_name: 'Session', status: 'New' });
    await control(emu, '/clock', { advance_seconds: 900 });
    const comm = await communication(lead.name, { sent_or_received: 'Sent', sender: 'shared-inbox@outside.example', recipients: 'sid@example.com' });
    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.first_responded_on).toBe(comm.creation);
    expect(after.first_response_time).toBe(900);
  });

  // communication.py get_permission_query_conditions_for_communication (hooks.py
  // permission_query_conditions): without "Super Email User" or "System Manager", lists show only
  // non-Email Communications (the user has no User Email accounts); reading one by name is not filtered.
  it('lists email Communications only to System Managers and Super Email Users', async () => {
    const lead = await newLead({ first_name: 'Lisa', last_name: 'Lists', status: 'New' });
    const email = await communication(lead.name, { sent_or_received: 'Received', sender: 'lisa@example.com', recipients: agent.name });
    const call = await communication(lead.name, { communication_medium: 'Phone', sent_or_received: 'Received', sender: 'lisa@example.com', recipients: agent.name });
    const role = await root.insert('Role', { role_name: 'Super Email User', desk_access: 0 });
    expect(role.status, JSON.stringify(role.body)).toBe(200);
    const reader = await keyedUser('mail-reader@example.com', ['Inbox User']);
    const superReader = await keyedUser('mail-super@example.com', ['Inbox User', 'Super Email User']);
    const names = async (u: KeyedUser | null) => {
      const res = await (u ? tokenClient(u) : admin).list('Communication', { filters: [['reference_name', '=', lead.name]], order_by: 'creation asc', limit_page_length: 0 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((r: { name: string }) => r.name);
    };
    expect(await names(reader)).toEqual([call.name]);
    expect(await names(superReader)).toEqual([email.name, call.name]);
    expect(await names(null)).toEqual([email.name, call.name]); // System Manager
    expect((await tokenClient(reader).get('Communication', email.name)).status).toBe(200);
  });
});

describe('Notification Log (frappe/frappe:frappe/desk/doctype/notification_log/notification_log.py)', () => {
  // notification_log.py after_insert: publish_realtime("notification", after_commit=True, user=self.for_user)
  it('emits `notification` with payload {} only to the user:<for_user> room', async () => {
    const alice = await keyedUser('alice.notify@example.com', ['Sales User']);
    const bob = await keyedUser('bob.notify@example.com', ['Sales User']);
    const aliceSocket = await tokenSocket(alice);
    const bobSocket = await tokenSocket(bob);
    const aliceAll = record(aliceSocket, 'notification');
    const bobAll = record(bobSocket, 'notification');

    const forAlice = nextEvent(aliceSocket, 'notification');
    await ok(root.insert('Notification Log', { for_user: alice.name, type: 'Alert', subject: 'Your order shipped', document_type: 'CRM Lead' }));
    expect(await forAlice).toEqual({});

    // Barrier: a notification for Bob. Had Bob received Alice's, it would have arrived first.
    const forBob = nextEvent(bobSocket, 'notification');
    await ok(root.insert('Notification Log', { for_user: bob.name, type: 'Alert', subject: 'Your turn', document_type: 'CRM Lead' }));
    expect(await forBob).toEqual({});

    expect(bobAll.events).toEqual([{}]);
    expect(aliceAll.events).toEqual([{}]);
    aliceAll.stop();
    bobAll.stop();
  });

  // notification_log.json: the only DocPerm is role All without create (in_create) → 403 for anyone but Administrator
  it('refuses a Notification Log insert from a non-Administrator (403)', async () => {
    const res = await admin.insert('Notification Log', { for_user: agent.name, type: 'Alert', subject: 'Nope' });
    expect(res.status).toBe(403);
    expect(res.body.exc_type).toBe('PermissionError');
  });
});

describe('notify_update (frappe/frappe:frappe/model/document.py notify_update, delete_doc.py)', () => {
  const salesOrder = () => demoSalesOrder({ customer: 'Brightside Cafe', lines: [['CAKE-VAN', 2]], date: '2026-01-05', delivery: '2026-01-12' });

  // document.py run_post_save_methods → notify_update: doc_update {modified, doctype, name} to doc:<dt>/<name>,
  // list_update {doctype, name, user} to doctype:<dt>; delete_doc.py emits the same payloads on delete
  it('emits doc_update and list_update after insert, save, submit, cancel and delete', async () => {
    await setClock(emu, '2026-01-05T12:00:00Z');
    const socket = await tokenSocket(adminUser);
    const rooms = await subscribe(emu, socket, 'doctype_subscribe', 'Sales Order');
    expect(rooms).toContain('doctype:Sales Order');
    const docUpdates = record(socket, 'doc_update');
    const listUpdates = record(socket, 'list_update');

    // insert: list_update (doc_update goes to a room nobody could have joined yet).
    let listed = nextEvent(socket, 'list_update', (p: any) => p.doctype === 'Sales Order');
    const so = await ok(admin.insert('Sales Order', salesOrder()));
    const name = so.name as string;
    expect(await listed).toEqual({ doctype: 'Sales Order', name, user: adminUser.name });
    expect((await subscribe(emu, socket, 'doc_subscribe', 'Sales Order', name))).toContain(`doc:Sales Order/${name}`);

    const step = async (label: string, act: () => Promise<any>) => {
      const updated = nextEvent(socket, 'doc_update', (p: any) => p.name === name);
      const listedNow = nextEvent(socket, 'list_update', (p: any) => p.name === name);
      const doc = await act();
      const [du, lu] = await Promise.all([updated, listedNow]);
      expect(du, label).toEqual({ modified: doc.modified, doctype: 'Sales Order', name });
      expect(lu, label).toEqual({ doctype: 'Sales Order', name, user: adminUser.name });
      return doc;
    };

    await control(emu, '/clock', { advance_seconds: 60 });
    const saved = await step('save', () => ok(admin.update('Sales Order', name, { po_no: 'PO-4711' })));
    expect(saved.po_no).toBe('PO-4711');

    await control(emu, '/clock', { advance_seconds: 60 });
    const submitted = await step('submit', () => ok(admin.update('Sales Order', name, { docstatus: 1 })));
    expect(submitted.docstatus).toBe(1);

    await control(emu, '/clock', { advance_seconds: 60 });
    const cancelled = await step('cancel', () => ok(admin.update('Sales Order', name, { docstatus: 2 })));
    expect(cancelled.docstatus).toBe(2);

    // delete_doc: the payload carries the deleted document's last `modified`.
    await control(emu, '/clock', { advance_seconds: 60 });
    const deletedDoc = nextEvent(socket, 'doc_update', (p: any) => p.name === name);
    const deletedList = nextEvent(socket, 'list_update', (p: any) => p.name === name);
    const del = await admin.remove('Sales Order', name);
    expect(del.status).toBe(202);
    expect(await deletedDoc).toEqual({ modified: cancelled.modified, doctype: 'Sales Order', name });
    expect(await deletedList).toEqual({ doctype: 'Sales Order', name, user: adminUser.name });

    // Exactly one event of each kind per operation: 4 doc_updates (save, submit, cancel, delete), 5 list_updates.
    expect(docUpdates.events.filter((p: any) => p.name === name)).toHaveLength(4);
    expect(listUpdates.events.filter((p: any) => p.name === name)).toHaveLength(5);
    docUpdates.stop();
    listUpdates.stop();
  });

  // document.py notify_update: `if not (self.meta.get("read_only") or self.meta.get("issingle") or self.meta.get("istable"))`
  it('emits doc_update but no list_update for a single (FCRM Settings)', async () => {
    const socket = await adminSessionSocket();
    await subscribe(emu, socket, 'doctype_subscribe', 'FCRM Settings');
    await subscribe(emu, socket, 'doc_subscribe', 'FCRM Settings', 'FCRM Settings');
    const rooms = await subscribe(emu, socket, 'doctype_subscribe', 'CRM Lead');
    expect(rooms).toEqual(expect.arrayContaining(['doctype:FCRM Settings', 'doc:FCRM Settings/FCRM Settings', 'doctype:CRM Lead']));
    const listUpdates = record(socket, 'list_update');

    const single = nextEvent(socket, 'doc_update', (p: any) => p.doctype === 'FCRM Settings');
    const settings = await ok(admin.update('FCRM Settings', 'FCRM Settings', { brand_name: 'Order Companion' }));
    expect(await single).toEqual({ modified: settings.modified, doctype: 'FCRM Settings', name: 'FCRM Settings' });

    // Barrier: a later list_update this socket does get.
    const barrier = nextEvent(socket, 'list_update', (p: any) => p.doctype === 'CRM Lead');
    const lead = await newLead({ first_name: 'Barry', last_name: 'Barrier' });
    expect(await barrier).toEqual({ doctype: 'CRM Lead', name: lead.name, user: adminUser.name });
    expect(listUpdates.events.filter((p: any) => p.doctype === 'FCRM Settings')).toEqual([]);
    listUpdates.stop();
  });

  // document.py notify_update: no list_update for istable; the parent saved with the row emits its own
  it('emits no list_update for a child DocType row saved over REST, only for its parent', async () => {
    const sla = await ok(
      admin.insert('CRM Service Level Agreement', {
        sla_name: 'Child Row Events',
        apply_on: 'CRM Lead',
        enabled: 0,
        priorities: [{ priority: 'Open', first_response_time: 3600, default_priority: 1 }],
        working_hours: [{ workday: 'Monday', start_time: '09:00:00', end_time: '17:00:00' }],
      }),
    );
    const row = sla.working_hours[0].name as string;
    const socket = await adminSessionSocket();
    await subscribe(emu, socket, 'doctype_subscribe', 'CRM Service Day');
    const rooms = await subscribe(emu, socket, 'doctype_subscribe', 'CRM Service Level Agreement');
    expect(rooms).toEqual(expect.arrayContaining(['doctype:CRM Service Day', 'doctype:CRM Service Level Agreement']));
    const listUpdates = record(socket, 'list_update');

    const parentListed = nextEvent(socket, 'list_update', (p: any) => p.doctype === 'CRM Service Level Agreement');
    await ok(admin.update('CRM Service Day', row, { end_time: '18:00:00' }));
    expect(await parentListed).toEqual({ doctype: 'CRM Service Level Agreement', name: 'Child Row Events', user: adminUser.name });
    expect(listUpdates.events.filter((p: any) => p.doctype === 'CRM Service Day')).toEqual([]);
    const stored = await ok(admin.get('CRM Service Level Agreement', 'Child Row Events'));
    expect(stored.working_hours[0].end_time).toBe('18:00:00');
    listUpdates.stop();
  });

  // frappe/realtime.py publish_realtime(after_commit=True): queued events are dropped on rollback
  it('emits nothing for a save that fails and is rolled back', async () => {
    const lead = await newLead({ first_name: 'Rolf', last_name: 'Rollback' });
    const socket = await tokenSocket(adminUser);
    await subscribe(emu, socket, 'doctype_subscribe', 'CRM Lead');
    await subscribe(emu, socket, 'doc_subscribe', 'CRM Lead', lead.name);
    const docUpdates = record(socket, 'doc_update');
    const listUpdates = record(socket, 'list_update');

    const failed = await admin.update('CRM Lead', lead.name, { status: 'No Such Status' });
    expect(failed.status).toBe(417);
    expect(failed.body.exc_type).toBe('LinkValidationError');

    // Barrier: a successful save of the same lead.
    const barrier = nextEvent(socket, 'doc_update', (p: any) => p.name === lead.name);
    const saved = await ok(admin.update('CRM Lead', lead.name, { mobile_no: '+1 555 0123' }));
    expect(await barrier).toEqual({ modified: saved.modified, doctype: 'CRM Lead', name: lead.name });
    expect(docUpdates.events.filter((p: any) => p.name === lead.name)).toEqual([{ modified: saved.modified, doctype: 'CRM Lead', name: lead.name }]);
    expect(listUpdates.events.filter((p: any) => p.name === lead.name)).toEqual([{ doctype: 'CRM Lead', name: lead.name, user: adminUser.name }]);
    expect((await ok(admin.get('CRM Lead', lead.name))).status).toBe('New');
    docUpdates.stop();
    listUpdates.stop();
  });
});

describe('FCRM Settings communication toggles (frappe/crm:crm/utils/__init__.py on_communication_update)', () => {
  // crm/fcrm/doctype/fcrm_settings/fcrm_settings.json defaults; crm/utils/__init__.py _get_communication_status
  it('leaves communication_status Open for a Sent mail while auto_mark_replied_on_response is off (default)', async () => {
    const settings = await ok(admin.get('FCRM Settings', 'FCRM Settings'));
    expect(settings.auto_mark_replied_on_response).toBe(0);
    expect(settings.auto_reopen_on_new_communication).toBe(0);
    expect(settings.update_timestamp_on_new_communication).toBe(1);

    await setClock(emu, '2026-01-06T09:00:00Z');
    const lead = await newLead({ first_name: 'Otto', last_name: 'Off', status: 'New' });
    await control(emu, '/clock', { advance_seconds: 300 });
    await communication(lead.name, { sent_or_received: 'Sent', sender: agent.name, recipients: 'otto@example.com' });
    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.communication_status).toBe('Open');
    expect(after.first_response_time).toBe(300);
  });

  // crm/utils/__init__.py on_communication_update: frappe.db.set_value(..., {"communication_status": "Replied"}, update_modified=False)
  // — no hooks, so apply_sla does not run and sla_status is not recomputed
  it('sets communication_status Replied without touching sla_status once auto_mark_replied_on_response is on', async () => {
    await ok(admin.update('FCRM Settings', 'FCRM Settings', { auto_mark_replied_on_response: 1 }));
    await setClock(emu, '2026-01-06T10:00:00Z');
    const lead = await newLead({ first_name: 'Olga', last_name: 'On', status: 'New' });
    expect(lead.sla_status).toBe('First Response Due');
    await control(emu, '/clock', { advance_seconds: 120 });
    const comm = await communication(lead.name, { sent_or_received: 'Sent', sender: agent.name, recipients: 'olga@example.com' });
    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.communication_status).toBe('Replied');
    expect(after.sla_status).toBe('First Response Due');
    expect(after.first_responded_on).toBe(comm.creation);
    expect(await versionsOf('CRM Lead', lead.name)).toEqual([]);

    // A Received mail does not reopen while auto_reopen_on_new_communication is off.
    await communication(lead.name, { sent_or_received: 'Received', sender: 'olga@example.com', recipients: agent.name });
    expect((await ok(admin.get('CRM Lead', lead.name))).communication_status).toBe('Replied');
  });

  // crm/utils/__init__.py _should_update_modified (update_timestamp_on_new_communication) + v15
  // communication.py update_parent_document_on_communication (no update_modified for a Received mail on a lead)
  it('leaves the lead modified alone for a Received mail when update_timestamp_on_new_communication is off', async () => {
    await ok(admin.update('FCRM Settings', 'FCRM Settings', { auto_mark_replied_on_response: 0, update_timestamp_on_new_communication: 0 }));
    await setClock(emu, '2026-01-06T11:00:00Z');
    const lead = await newLead({ first_name: 'Tim', last_name: 'Stamp', status: 'New' });
    await control(emu, '/clock', { advance_seconds: 60 });
    await communication(lead.name, { sent_or_received: 'Received', sender: 'tim@example.com', recipients: agent.name });
    const after = await ok(admin.get('CRM Lead', lead.name));
    expect(after.modified).toBe(lead.modified);
    await ok(admin.update('FCRM Settings', 'FCRM Settings', { update_timestamp_on_new_communication: 1 }));
  });
});
