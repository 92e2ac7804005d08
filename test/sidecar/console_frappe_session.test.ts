/**
 * Signing in to the ops console with the Frappe session the browser already holds (issue #14 item
 * 7), over real sockets against an emulated site: when the console is served under the site's own
 * host name, the browser sends the site's `sid` cookie along, and *Continue as your … user* checks
 * it with the site (frappe-js-sdk: get_logged_user, then get_roles) instead of asking for a
 * password — without ending that session. A sid comes only from the site's own /api/method/login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, login } from '../helpers/emulator.js';
import { installedSite, type InstalledSite } from '../helpers/sidecar.js';
import { person, startConsoleSidecar } from '../helpers/console.js';

let site: InstalledSite;
let sc: Sidecar;
let logs: Record<string, unknown>[];

beforeAll(async () => {
  site = await installedSite('UTC');
  await person(site, 'manager@example.com', ['System Manager']);
  await person(site, 'rep2@example.com', ['Sales User']);
  ({ sc, logs } = await startConsoleSidecar(site));
}, 60_000);

afterAll(async () => {
  await sc?.stop();
  await site?.emu.close();
});

/** A desk sign-in on the site itself: the sid its Set-Cookie carries. */
const deskSid = (usr: string) => login(site.emu, usr, 'pw');

/** A request as the browser sends it to a console served under the site's host name. */
const asBrowser = (path: string, sid: string, init: { method?: string; host?: string } = {}) =>
  fetch(`${sc.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { Cookie: `sid=${sid}`, 'X-Forwarded-Host': init.host ?? SITE, 'Content-Type': 'application/json' },
    body: init.method === 'POST' ? '{}' : undefined,
  });

describe('console sign-in with a Frappe session', () => {
  it('offers it only when the site’s sid comes under the site’s own host name', async () => {
    const sid = await deskSid('manager@example.com');
    expect(await (await asBrowser('/console/api/session', sid)).json()).toMatchObject({ frappeSession: SITE, signedIn: [] });
    // The same cookie under another host name is not this site's: not offered, never sent to a site.
    expect(await (await asBrowser('/console/api/session', sid, { host: 'other.example.com' })).json()).not.toHaveProperty('frappeSession');
    expect(await (await asBrowser('/console/api/session', 'Guest')).json()).not.toHaveProperty('frappeSession');
    const refused = await asBrowser('/console/api/login/session', sid, { method: 'POST', host: 'other.example.com' });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatch(/no Frappe session comes with this request/);
  });

  it('a System Manager continues with their desk session, which stays alive', async () => {
    const sid = await deskSid('manager@example.com');
    const res = await asBrowser('/console/api/login/session', sid, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ site: SITE, user: 'manager@example.com' });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^coc_console=[A-Za-z0-9_-]{40,}; Path=\/console; HttpOnly; SameSite=Strict/);
    const sites = await fetch(`${sc.url}/console/api/sites`, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(sites.status).toBe(200);
    expect((await sites.json()).sites[0]).toMatchObject({ name: SITE, user: 'manager@example.com' });
    expect(logs.some((l) => l.user === 'manager@example.com' && l.how === 'Frappe session')).toBe(true);
    // No logout was sent: the desk session still answers as its user.
    const still = await fetch(`${site.emu.url}/api/method/frappe.auth.get_logged_user`, { headers: { Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE } });
    expect(await still.json()).toEqual({ message: 'manager@example.com' });
  });

  it('refuses a user without the role (403, no session) and a session that has ended (401)', async () => {
    const rep = await asBrowser('/console/api/login/session', await deskSid('rep2@example.com'), { method: 'POST' });
    expect(rep.status).toBe(403);
    expect(rep.headers.get('set-cookie')).toBeNull();
    expect((await rep.json()).error).toMatch(/rep2@example.com may not open the console of test.localhost: it needs the System Manager or Order Companion Operator role/);

    const sid = await deskSid('manager@example.com');
    await fetch(`${site.emu.url}/api/method/logout`, { method: 'POST', headers: { Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE } });
    const ended = await asBrowser('/console/api/login/session', sid, { method: 'POST' });
    expect(ended.status).toBe(401);
    expect(ended.headers.get('set-cookie')).toBeNull();
    expect((await ended.json()).error).toMatch(/your Frappe session has ended/);
  });
});
