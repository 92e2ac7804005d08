/**
 * The realtime contract of a v15 site: frappe/frappe:realtime/middlewares/authenticate.js (handshake
 * checks and their order), realtime/handlers/frappe_handlers.js (rooms, subscriptions gated by
 * permission callbacks), frappe/realtime.py (get_user_info, can_subscribe_*), and
 * frappe/model/document.py `notify_update` (what is published, to which room, after commit).
 */
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import {
  SITE,
  client,
  connect,
  control,
  login,
  nextEvent,
  record,
  subscribe,
  tokenSocketHeaders,
  userClient,
  type Client,
} from '../helpers/emulator.js';

let emu: RunningEmulator;
let admin: Client & { user: string };
let sales: Client & { user: string };
let salesKeys: { key: string; secret: string };
const open: Socket[] = [];

async function socketFor(headers: Record<string, string>, namespace = SITE): Promise<Socket> {
  const s = await connect(emu, { headers, namespace });
  open.push(s);
  return s;
}

async function refusal(headers: Record<string, string>, namespace = SITE): Promise<string> {
  try {
    const s = await connect(emu, { headers, namespace });
    s.close();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the handshake to be refused');
}

beforeAll(async () => {
  // `bench serve --site` + socketio with default_site: the common single-site setup.
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
  admin = await userClient(emu, 'manager@example.com', ['System Manager', 'Sales Manager', 'Manufacturing Manager']);
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'seller@example.com', roles: ['Sales User'], generate_keys: true, password: 'pw' });
  salesKeys = { key: u.api_key, secret: u.api_secret };
  sales = Object.assign(client(emu, { site: SITE, token: salesKeys }), { user: u.name as string });
});

afterEach(() => {
  while (open.length) open.pop()!.close();
});

afterAll(async () => {
  await emu.close();
});

describe('handshake (realtime/middlewares/authenticate.js [v15])', () => {
  it('accepts a token socket that sends Origin, a cookie without sid and the site header', async () => {
    const s = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    expect(s.connected).toBe(true);
    const rooms = await subscribe(emu, s, 'ping');
    // frappe_handlers.js: user and website rooms; `all` needs user_type "System User", which a
    // token socket lacks in v15 (get_user_info reads session data that set_user reset; issue #31862).
    expect(rooms.sort()).toEqual(['user:seller@example.com', 'website']);
  });

  it('a cookie session (sid) of a System User also joins the `all` room', async () => {
    const sid = await login(emu, 'seller@example.com', 'pw');
    const s = await socketFor({ Origin: emu.url, Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE });
    const rooms = await subscribe(emu, s, 'ping');
    expect(rooms.sort()).toEqual(['all', 'user:seller@example.com', 'website']);
  });

  it('refuses a namespace that is not the resolved site', async () => {
    expect(await refusal(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret), 'other.localhost')).toBe('Invalid namespace');
  });

  it('refuses an Origin whose host differs from Host, or no Origin at all', async () => {
    const headers = { ...tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret), Origin: 'http://evil.example' };
    expect(await refusal(headers)).toBe('Invalid origin');
    const { Origin: _drop, ...noOrigin } = tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret);
    expect(await refusal(noOrigin)).toBe('Invalid origin');
  });

  it('v15.55 requires a Cookie header even with an Authorization header', async () => {
    const { Cookie: _drop, ...headers } = tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret);
    expect(await refusal(headers)).toBe('No cookie transmitted.');
  });

  it('refuses a cookie without sid when there is no Authorization header', async () => {
    expect(await refusal({ Origin: emu.url, Cookie: 'theme=dark', 'X-Frappe-Site-Name': SITE })).toBe(
      'No authentication method used. Use cookie or authorization header.',
    );
  });

  it('refuses a bad API token with the callback’s error', async () => {
    expect(await refusal(tokenSocketHeaders(emu, salesKeys.key, 'wrong-secret'))).toBe('Unauthorized: Error: Unauthorized');
  });

  it('an unknown sid is not refused: get_user_info is guest-allowed, so the socket is Guest', async () => {
    const s = await socketFor({ Origin: emu.url, Cookie: 'sid=not-a-session', 'X-Frappe-Site-Name': SITE });
    expect((await subscribe(emu, s, 'ping')).sort()).toEqual(['user:Guest', 'website']);
  });

  it('a dummy cookie that contains sid wins over the token (v15 superagent forwards ?sid=)', async () => {
    const headers = { ...tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret), Cookie: 'sid=Guest' };
    const s = await socketFor(headers);
    expect(await subscribe(emu, s, 'ping')).toContain('user:Guest');
  });
});

describe('rooms and events (frappe_handlers.js, document.py notify_update [v15])', () => {
  it('list_update and doc_update reach a socket that may read the DocType, after commit', async () => {
    const s = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    expect(await subscribe(emu, s, 'doctype_subscribe', 'CRM Lead')).toContain('doctype:CRM Lead');
    const listed = nextEvent(s, 'list_update');
    const res = await sales.insert('CRM Lead', { first_name: 'Rita' });
    expect(res.status).toBe(200);
    const name = res.body.data.name;
    expect(await listed).toEqual({ doctype: 'CRM Lead', name, user: 'seller@example.com' });

    expect(await subscribe(emu, s, 'doc_subscribe', 'CRM Lead', name)).toContain(`doc:CRM Lead/${name}`);
    const updated = nextEvent(s, 'doc_update');
    const saved = await sales.update('CRM Lead', name, { last_name: 'Ray' });
    expect(await updated).toEqual({ modified: saved.body.data.modified, doctype: 'CRM Lead', name });
  });

  it('trigger_indicator_hide sends indicator_hide to the caller\'s own user room only, with no subscription (notification_log.py)', async () => {
    const mine = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    const sid = await login(emu, admin.user, 'pw');
    const other = await socketFor({ Origin: emu.url, Cookie: `sid=${sid}`, 'X-Frappe-Site-Name': SITE });
    const toOther = record(other, 'indicator_hide');
    const heard = nextEvent(mine, 'indicator_hide');
    const res = await sales.method('frappe.desk.doctype.notification_log.notification_log.trigger_indicator_hide');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await heard).toEqual({});
    // The other user's socket is in its own user room: a second call of its own reaches it, and
    // only that one (the first call went to seller@example.com's room).
    const own = nextEvent(other, 'indicator_hide');
    await admin.method('frappe.desk.doctype.notification_log.notification_log.trigger_indicator_hide');
    await own;
    expect(toOther.events).toHaveLength(1);
  });

  it('a subscription the user may not read is ignored silently, and its events never arrive', async () => {
    const s = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    // Sales User has no permission on Role (frappe/core/doctype/role/role.json: System Manager only).
    expect(await subscribe(emu, s, 'doctype_subscribe', 'Role')).not.toContain('doctype:Role');
    await subscribe(emu, s, 'doctype_subscribe', 'CRM Lead');
    const items = record(s, 'list_update');
    // Item events first, then a CRM Lead event as the barrier: Socket.IO keeps order per connection.
    const ins = await admin.insert('Role', { role_name: 'Bakery Lead' });
    expect(ins.status).toBe(200);
    const barrier = nextEvent(s, 'list_update', (p: { doctype: string }) => p.doctype === 'CRM Lead');
    await sales.insert('CRM Lead', { first_name: 'Barrier' });
    await barrier;
    items.stop();
    expect(items.events.map((e: { doctype: string }) => e.doctype)).toEqual(['CRM Lead']);
  });

  it('doc_subscribe to a missing document joins nothing', async () => {
    const s = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    expect(await subscribe(emu, s, 'doc_subscribe', 'CRM Lead', 'CRM-LEAD-1999-00001')).not.toContain('doc:CRM Lead/CRM-LEAD-1999-00001');
  });

  it('delete publishes the same doc_update/list_update payloads (frappe/model/delete_doc.py)', async () => {
    const s = await socketFor(tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret));
    const lead = (await sales.insert('CRM Lead', { first_name: 'Gone' })).body.data;
    await subscribe(emu, s, 'doctype_subscribe', 'CRM Lead');
    await subscribe(emu, s, 'doc_subscribe', 'CRM Lead', lead.name);
    const listed = nextEvent(s, 'list_update');
    const updated = nextEvent(s, 'doc_update');
    expect((await admin.remove('CRM Lead', lead.name)).status).toBe(202);
    expect(await listed).toEqual({ doctype: 'CRM Lead', name: lead.name, user: admin.user });
    expect((await updated).name).toBe(lead.name);
  });

  it('no buffering: a disconnected client misses events for good', async () => {
    const headers = tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret);
    const first = await socketFor(headers);
    await subscribe(emu, first, 'doctype_subscribe', 'CRM Lead');
    first.close();
    const missed = (await sales.insert('CRM Lead', { first_name: 'Missed' })).body.data.name;
    const second = await socketFor(headers);
    await subscribe(emu, second, 'doctype_subscribe', 'CRM Lead');
    const seen = record(second, 'list_update');
    const barrier = nextEvent(second, 'list_update', (p: { name: string }) => p.name !== missed);
    const heard = (await sales.insert('CRM Lead', { first_name: 'Heard' })).body.data.name;
    await barrier;
    seen.stop();
    expect(seen.events.map((e: { name: string }) => e.name)).toEqual([heard]);
  });

  it('test controls: realtime "drop" loses events, "down" refuses handshakes', async () => {
    const headers = tokenSocketHeaders(emu, salesKeys.key, salesKeys.secret);
    const s = await socketFor(headers);
    await subscribe(emu, s, 'doctype_subscribe', 'CRM Lead');
    const seen = record(s, 'list_update');
    await control(emu, '/faults', { realtime: 'drop' });
    const dropped = (await sales.insert('CRM Lead', { first_name: 'Dropped' })).body.data.name;
    await control(emu, '/faults', { realtime: 'normal' });
    const barrier = nextEvent(s, 'list_update');
    await sales.insert('CRM Lead', { first_name: 'Kept' });
    await barrier;
    seen.stop();
    expect(seen.events.map((e: { name: string }) => e.name)).not.toContain(dropped);

    const disconnected = new Promise<void>((resolve) => s.once('disconnect', () => resolve()));
    await control(emu, '/faults', { realtime: 'down' });
    await disconnected;
    // A stopped socketio process behind the proxy: the transport fails before any Frappe check.
    expect(await refusal(headers)).toBe('websocket error');
    await control(emu, '/faults', undefined, 'DELETE');
    expect((await socketFor(headers)).connected).toBe(true);
  });
});

describe('several sites in one bench', () => {
  it('resolves the site by Host/Origin and keeps their events apart', async () => {
    const bench = await startEmulator({ sites: [{ name: 'a.localhost' }, { name: 'b.localhost' }] });
    try {
      const keys: Record<string, { key: string; secret: string }> = {};
      for (const site of ['a.localhost', 'b.localhost']) {
        const u = await control(bench, `/sites/${site}/users`, { email: 'agent@example.com', roles: ['Sales User'], generate_keys: true });
        keys[site] = { key: u.api_key, secret: u.api_secret };
      }
      const port = bench.port;
      const sockets: Record<string, Socket> = {};
      for (const site of ['a.localhost', 'b.localhost']) {
        // The URL a browser would use: http://<site>:<port>; Node cannot resolve *.localhost, so
        // the client dials 127.0.0.1 and sends the site's Host, as a reverse proxy would.
        sockets[site] = await connect(bench, {
          namespace: site,
          headers: {
            Host: `${site}:${port}`,
            Origin: `http://${site}:${port}`,
            Cookie: 'x=1',
            Authorization: `token ${keys[site].key}:${keys[site].secret}`,
          },
        });
        open.push(sockets[site]);
        sockets[site].emit('doctype_subscribe', 'CRM Lead');
      }
      // Keys of one site are unknown to the other: the callback to b's Origin with a's token fails.
      const wrong = await connect(bench, {
        namespace: 'b.localhost',
        headers: { Host: `b.localhost:${port}`, Origin: `http://b.localhost:${port}`, Cookie: 'x=1', Authorization: `token ${keys['a.localhost'].key}:${keys['a.localhost'].secret}` },
      }).then(
        () => 'connected',
        (e: Error) => e.message,
      );
      expect(wrong).toBe('Unauthorized: Error: Unauthorized');

      const waitRooms = async (site: string) => {
        for (;;) {
          const views: { rooms: string[]; pending: number }[] = await control(bench, `/realtime/sockets?site=${site}`, undefined, 'GET');
          if (views.length && views.every((v) => v.pending === 0 && v.rooms.includes('doctype:CRM Lead'))) return;
          await new Promise((r) => setImmediate(r));
        }
      };
      await waitRooms('a.localhost');
      await waitRooms('b.localhost');
      const onA = record(sockets['a.localhost'], 'list_update');
      const onB = nextEvent(sockets['b.localhost'], 'list_update');
      const siteA = client(bench, { site: 'a.localhost', token: keys['a.localhost'] });
      const siteB = client(bench, { site: 'b.localhost', token: keys['b.localhost'] });
      const inA = await siteA.insert('CRM Lead', { first_name: 'Only A' });
      expect(inA.status).toBe(200);
      const aEvent = nextEvent(sockets['a.localhost'], 'list_update', (p: { name: string }) => p.name !== inA.body.data.name);
      const inB = await siteB.insert('CRM Lead', { first_name: 'Only B' });
      await siteA.insert('CRM Lead', { first_name: 'Second A' });
      expect((await onB).name).toBe(inB.body.data.name);
      await aEvent;
      onA.stop();
      // Both sites name their first lead the same; site A saw only its own two inserts.
      expect(onA.events).toHaveLength(2);
    } finally {
      await bench.close();
    }
  });
});
