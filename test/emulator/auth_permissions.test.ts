// REST contract: authentication, CSRF, role permissions and multi-site routing (frappe/frappe
// version-15). Every `it` names the Frappe source it pins in a comment right above it.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, adminClient, client, control, login, start, userClient, type Client } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';

const SITE_A = 'a.localhost';
const SITE_B = 'b.localhost';

let emu: RunningEmulator;
let administrator: Client;

beforeAll(async () => {
  emu = await start({
    sites: [
      { name: SITE, timeZone: 'UTC', seed: 'demo' },
      { name: SITE_A, timeZone: 'UTC' },
      { name: SITE_B, timeZone: 'UTC' },
    ],
  });
  administrator = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
});
afterAll(() => emu.close());




async function keyedUser(site: string, roles: string[]): Promise<{ name: string; key: string; secret: string }> {
  const u = await control(emu, `/sites/${site}/users`, { email: `auth-${rand()}@example.com`, roles, generate_keys: true, password: 'pw' });
  return { name: u.name, key: u.api_key, secret: u.api_secret };
}

/** A request through node:http, so the Host header can be chosen. */
function rawRequest(opts: { method?: string; path: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: any }> {
  const url = new URL(emu.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: Number(url.port), method: opts.method ?? 'GET', path: opts.path, headers: { Accept: 'application/json', ...opts.headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

async function postLogin(usr: string, pwd: string): Promise<Response> {
  return fetch(`${emu.url}/api/method/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Frappe-Site-Name': SITE },
    body: JSON.stringify({ usr, pwd }),
  });
}

// ---- authentication ----------------------------------------------------------------------------

describe('authentication', () => {
  // frappe/frappe:frappe/auth.py (validate_auth_via_api_keys: "token key:secret")
  it('Authorization: token key:secret', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const r = await client(emu, { site: SITE, token: { key: u.key, secret: u.secret } }).method('frappe.auth.get_logged_user', {}, 'GET');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: u.name });
  });

  // frappe/frappe:frappe/auth.py (validate_auth_via_api_keys: "Basic base64(key:secret)")
  it('Authorization: Basic base64(key:secret)', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const basic = Buffer.from(`${u.key}:${u.secret}`).toString('base64');
    const r = await client(emu, { site: SITE, headers: { Authorization: `Basic ${basic}` } }).method('frappe.auth.get_logged_user', {}, 'GET');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: u.name });
  });

  // frappe/frappe:frappe/auth.py (validate_auth: a two-part Authorization header that leaves Guest → AuthenticationError 401)
  it('a bad token: 401 AuthenticationError', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    expectError(await client(emu, { site: SITE, token: { key: u.key, secret: 'wrong-secret' } }).method('frappe.auth.get_logged_user', {}, 'GET'), 401, 'AuthenticationError');
    expectError(await client(emu, { site: SITE, token: { key: 'no-such-key', secret: 'x' } }).method('ping', {}, 'GET'), 401, 'AuthenticationError');
  });

  // frappe/frappe:frappe/auth.py (validate_auth_via_api_keys: binascii.Error → InvalidAuthorizationToken, a CSRFTokenError → 400)
  it('Basic with a token that is not base64: 400 InvalidAuthorizationToken', async () => {
    const r = await client(emu, { site: SITE, headers: { Authorization: 'Basic abc' } }).method('ping', {}, 'GET');
    expectError(r, 400, 'InvalidAuthorizationToken');
  });

  // frappe/frappe:frappe/auth.py (LoginManager.login / post_login: {"message": "Logged In", "home_page", "full_name"}, cookie sid)
  it('POST /api/method/login sets the sid cookie; the cookie authenticates', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const res = await postLogin(u.name, 'pw');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.message).toBe('Logged In');
    expect(typeof body.full_name).toBe('string');
    expect(typeof body.home_page).toBe('string');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    expect(cookie).toBeDefined();
    const sid = cookie!.split(';')[0].slice(4);
    expect(sid).not.toBe('Guest');
    const r = await client(emu, { site: SITE, sid }).method('frappe.auth.get_logged_user', {}, 'GET');
    expect(r.body).toEqual({ message: u.name });
  });

  // frappe/frappe:frappe/auth.py (LoginManager.fail: response["message"] = "Invalid login credentials"; AuthenticationError 401)
  it('a wrong password: 401 AuthenticationError with message "Invalid login credentials"', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const res = await postLogin(u.name, 'not-the-password');
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.exc_type).toBe('AuthenticationError');
    expect(body.message).toBe('Invalid login credentials');
    const unknown = await postLogin(`nobody-${rand()}@example.com`, 'pw');
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).message).toBe('Invalid login credentials');
  });

  // frappe/frappe:frappe/handler.py (logout → LoginManager.logout: the session is deleted)
  it('logout ends the cookie session', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const sid = await login(emu, u.name, 'pw');
    const c = client(emu, { site: SITE, sid });
    expect((await c.method('frappe.auth.get_logged_user', {}, 'GET')).body).toEqual({ message: u.name });
    const out = await c.method('logout', {});
    expect(out.status).toBe(200);
    expect(out.body.exc_type).toBeUndefined();
    expectError(await c.method('frappe.auth.get_logged_user', {}, 'GET'), 403, 'PermissionError');
  });
});

// ---- CSRF ----------------------------------------------------------------------------------------

describe('CSRF', () => {
  // frappe/frappe:frappe/auth.py (HTTPRequest.validate_csrf_token) + frappe/frappe:frappe/www/app.py (get_csrf_token on desk boot)
  it('after /app, a cookie POST needs X-Frappe-CSRF-Token: 400 CSRFTokenError without, OK with', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    const sid = await login(emu, u.name, 'pw');
    const cookieClient = client(emu, { site: SITE, sid });
    // Before the desk has handed out a token, the session has none and nothing is checked.
    expect((await cookieClient.insert('CRM Lead', { first_name: 'Pre desk' })).status).toBe(200);

    const page = await fetch(`${emu.url}/app`, { headers: { Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const token = /csrf_token\s*[:=]\s*["']([^"']+)["']/.exec(html)?.[1];
    expect(token).toBeTruthy();

    const refused = await cookieClient.insert('CRM Lead', { first_name: 'No token' });
    expectError(refused, 400, 'CSRFTokenError');
    // flags.disable_traceback: no `exception`/`exc` keys
    expect(refused.body.exception).toBeUndefined();
    expect(refused.body.exc).toBeUndefined();
    expect(serverMessages(refused.body).map((m) => m.message)).toContain('Invalid Request');

    const wrong = await client(emu, { site: SITE, sid, csrf: 'not-the-token' }).insert('CRM Lead', { first_name: 'Wrong token' });
    expectError(wrong, 400, 'CSRFTokenError');

    const ok = await client(emu, { site: SITE, sid, csrf: token }).insert('CRM Lead', { first_name: 'With token' });
    expect(ok.status).toBe(200);
    // safe methods are never checked
    expect((await cookieClient.get('CRM Lead', ok.body.data.name)).status).toBe(200);
  });

  // frappe/frappe:frappe/auth.py (validate_csrf_token runs on the cookie session; an API-key request carries none)
  it('token requests never need a CSRF token', async () => {
    const u = await keyedUser(SITE, ['Sales User']);
    // the same user also has a desk session with a CSRF token
    const sid = await login(emu, u.name, 'pw');
    expect((await fetch(`${emu.url}/app`, { headers: { Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE } })).status).toBe(200);
    const tokenClient = client(emu, { site: SITE, token: { key: u.key, secret: u.secret } });
    const r = await tokenClient.insert('CRM Lead', { first_name: 'Token only' });
    expect(r.status).toBe(200);
    const m = await tokenClient.method('frappe.client.set_value', { doctype: 'CRM Lead', name: r.body.data.name, fieldname: 'job_title', value: 'Tok' });
    expect(m.status).toBe(200);
  });
});

// ---- role permissions --------------------------------------------------------------------------

describe('role permissions', () => {
  let sales: Client & { user: string };
  beforeAll(async () => {
    sales = await userClient(emu, `perm-sales-${rand()}@example.com`, ['Sales User']);
  });

  // frappe/frappe:frappe/permissions.py (has_permission via DocPerm rows of the user's roles)
  it('a Sales User can create, read and write CRM Lead', async () => {
    const r = await sales.insert('CRM Lead', { first_name: 'Perm' });
    expect(r.status).toBe(200);
    expect((await sales.get('CRM Lead', r.body.data.name)).status).toBe(200);
    const u = await sales.update('CRM Lead', r.body.data.name, { job_title: 'Writer' });
    expect(u.status).toBe(200);
    expect(u.body.data.job_title).toBe('Writer');
  });

  // frappe/frappe:frappe/model/db_query.py (execute → check_read_permission → PermissionError)
  it('a Sales User listing Work Order: 403 PermissionError', async () => {
    const r = await sales.list('Work Order');
    expectError(r, 403, 'PermissionError');
  });

  // frappe/frappe:frappe/api/v1.py (read_doc → doc.check_permission("read")) + frappe/model/document.py (raise_no_permission_to
  // sets flags.error_message → `_error_message`)
  // api/v1.py read_doc (15.55.1) raises a bare PermissionError after has_permission's check log:
  // no _error_message (recording restricted-wo-get-403).
  it('a Sales User reading a Work Order: 403 with the permission check log, no _error_message', async () => {
    const r = await sales.get('Work Order', emu.seeds[SITE].work_orders[0]);
    expectError(r, 403, 'PermissionError');
    expect(r.body._error_message).toBeUndefined();
    const [msg] = JSON.parse(r.body._server_messages).map((m: string) => JSON.parse(m));
    expect(msg.message).toContain('does not have doctype access via role permission for document <strong>Work Order</strong>');
  });

  // frappe/frappe:frappe/model/delete_doc.py (check_permission_and_not_submitted: no delete right → PermissionError)
  it('a Sales User cannot delete a Customer (no delete right)', async () => {
    const r = await sales.remove('Customer', 'Carla Mendes');
    expectError(r, 403, 'PermissionError');
    expect((await administrator.get('Customer', 'Carla Mendes')).status).toBe(200);
  });
});

// ---- Notification Log ------------------------------------------------------------------------------

describe('Notification Log permissions', () => {
  const tag = `NL-${rand()}`;
  let u1: Client & { user: string };
  let u2: Client & { user: string };
  let sysManager: Client & { user: string };

  beforeAll(async () => {
    u1 = await userClient(emu, `nl-one-${rand()}@example.com`, ['Sales User']);
    u2 = await userClient(emu, `nl-two-${rand()}@example.com`, ['Sales User']);
    sysManager = await adminClient(emu);
  });

  // frappe/frappe:frappe/desk/doctype/notification_log/notification_log.json (DocPerm: role All, no create)
  it('POST by a non-Administrator: 403 (no create permission)', async () => {
    const r = await sysManager.insert('Notification Log', { subject: `${tag} nope`, for_user: sysManager.user, type: 'Alert' });
    expectError(r, 403, 'PermissionError');
    expect(String(r.body._error_message)).toContain('Notification Log');
  });

  // frappe/frappe:frappe/permissions.py (Administrator has every permission)
  it('POST by Administrator: OK', async () => {
    for (const [user, n] of [
      [u1.user, 1],
      [u1.user, 2],
      [u2.user, 1],
    ] as const) {
      const r = await administrator.insert('Notification Log', { subject: `${tag} ${user} ${n}`, for_user: user, type: 'Alert' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data.for_user).toBe(user);
    }
  });

  // frappe/frappe:frappe/desk/doctype/notification_log/notification_log.py (get_permission_query_conditions: for_user = session user)
  it('a user lists only their own notifications', async () => {
    const filters = [['subject', 'like', `${tag}%`]];
    const mine = await u1.list('Notification Log', { fields: ['name', 'for_user'], filters, limit_page_length: 0 });
    expect(mine.status).toBe(200);
    expect(mine.body.data).toHaveLength(2);
    for (const row of mine.body.data) expect(row.for_user).toBe(u1.user);
    const theirs = await u2.list('Notification Log', { fields: ['for_user'], filters, limit_page_length: 0 });
    expect(theirs.body.data).toEqual([{ for_user: u2.user }]);
    const all = await administrator.list('Notification Log', { filters, limit_page_length: 0 });
    expect(all.body.data).toHaveLength(3);
  });

  // frappe/frappe:frappe/permissions.py (get_valid_perms / get_doctype_perms: Custom DocPerm rows replace the DocType's DocPerms)
  it('a Custom DocPerm granting create (and read) lets that role insert', async () => {
    const role = `Notifier ${rand()}`;
    const roleRes = await administrator.insert('Role', { role_name: role, desk_access: 1 });
    expect(roleRes.status, JSON.stringify(roleRes.body)).toBe(200);
    const notifier = await userClient(emu, `notifier-${rand()}@example.com`, [role]);
    expectError(await notifier.insert('Notification Log', { subject: `${tag} before`, for_user: notifier.user, type: 'Alert' }), 403, 'PermissionError');

    const perm = await administrator.insert('Custom DocPerm', { parent: 'Notification Log', role, permlevel: 0, read: 1, create: 1 });
    expect(perm.status, JSON.stringify(perm.body)).toBe(200);

    const ok = await notifier.insert('Notification Log', { subject: `${tag} after`, for_user: notifier.user, type: 'Alert' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await notifier.get('Notification Log', ok.body.data.name)).status).toBe(200);
    // the System Manager's roles have no Custom DocPerm row, and the standard DocPerms no longer apply
    expectError(await sysManager.insert('Notification Log', { subject: `${tag} still no`, for_user: sysManager.user, type: 'Alert' }), 403, 'PermissionError');
  });
});

// ---- multi-site ---------------------------------------------------------------------------------------

describe('multi-site', () => {
  let a: { name: string; key: string; secret: string };
  let b: { name: string; key: string; secret: string };
  const tag = `MS-${rand()}`;

  beforeAll(async () => {
    a = await keyedUser(SITE_A, ['System Manager', 'Sales User']);
    b = await keyedUser(SITE_B, ['System Manager', 'Sales User']);
  });
  const on = (site: string, u: { key: string; secret: string }) => client(emu, { site, token: { key: u.key, secret: u.secret } });
  const tokenHeader = (u: { key: string; secret: string }) => `token ${u.key}:${u.secret}`;

  // frappe/frappe:frappe/app.py (init_request: site from X-Frappe-Site-Name, each site its own database)
  it('two sites keep separate data, chosen by X-Frappe-Site-Name', async () => {
    const r = await on(SITE_A, a).insert('CRM Lead', { first_name: 'Only on A', organization: tag });
    expect(r.status).toBe(200);
    expect((await on(SITE_A, a).list('CRM Lead', { filters: { organization: tag } })).body.data).toEqual([{ name: r.body.data.name }]);
    const onB = await on(SITE_B, b).list('CRM Lead', { filters: { organization: tag } });
    expect(onB.status).toBe(200);
    expect(onB.body.data).toEqual([]);
  });

  // frappe/frappe:frappe/auth.py (validate_api_key_secret looks the key up in the site's own User table)
  it('keys are per site', async () => {
    expectError(await on(SITE_B, a).method('frappe.auth.get_logged_user', {}, 'GET'), 401, 'AuthenticationError');
    expect((await on(SITE_A, a).method('frappe.auth.get_logged_user', {}, 'GET')).body).toEqual({ message: a.name });
  });

  // frappe/frappe:frappe/app.py (init_request: get_site_name(request.host) when no X-Frappe-Site-Name; the header wins)
  it('the Host header chooses the site when X-Frappe-Site-Name is absent', async () => {
    const port = new URL(emu.url).port;
    const viaHostB = await rawRequest({ path: '/api/method/frappe.auth.get_logged_user', headers: { Host: `${SITE_B}:${port}`, Authorization: tokenHeader(b) } });
    expect(viaHostB).toEqual({ status: 200, body: { message: b.name } });
    const wrongHost = await rawRequest({ path: '/api/method/frappe.auth.get_logged_user', headers: { Host: `${SITE_A}:${port}`, Authorization: tokenHeader(b) } });
    expect(wrongHost.status).toBe(401);
    const headerWins = await rawRequest({
      path: '/api/method/frappe.auth.get_logged_user',
      headers: { Host: `${SITE_B}:${port}`, 'X-Frappe-Site-Name': SITE_A, Authorization: tokenHeader(a) },
    });
    expect(headerWins).toEqual({ status: 200, body: { message: a.name } });
  });

  // frappe/frappe:frappe/app.py (init_request: no site config → werkzeug NotFound)
  it('an unknown site: 404', async () => {
    const r = await client(emu, { site: 'nowhere.localhost' }).call('GET', '/api/method/ping');
    expect(r.status).toBe(404);
    const port = new URL(emu.url).port;
    const viaHost = await rawRequest({ path: '/api/method/ping', headers: { Host: `nowhere.localhost:${port}` } });
    expect(viaHost.status).toBe(404);
  });
});
