/**
 * The sidecar's REST client against the emulator over 127.0.0.1: wire format, typed errors,
 * retries through injected faults, and optimistic saves. Backoff never waits: `sleep` is
 * injected and records the delays it was asked for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { isPermanent, isRetriable, FrappeThrottledError, FrappeUnavailableError, RetriableError } from '../../lib/errors.js';
import { createFrappeClient, endpointOf, requestIsOver, type FrappeClient, type FrappeClientOptions } from '../../lib/frappe/client.js';
import { markStalled, runWithStallHook } from '../../sidecar/jobs/stall.js';
import { FrappeApiError, decodeServerMessages, parseRetryAfter, stripHtml } from '../../lib/frappe/errors.js';
import { createLogger } from '../../lib/log.js';
import { createMetrics, type Metrics } from '../../sidecar/metrics.js';
import { SITE, adminClient, control, start, type Client } from '../helpers/emulator.js';

interface Keys {
  key: string;
  secret: string;
}

let emu: RunningEmulator;
let adminKeys: Keys;
let salesKeys: Keys;
let other: Client; // a second writer, for concurrent updates

function rand(): string {
  return Math.random().toString(36).slice(2, 8);
}

async function keyedUser(roles: string[]): Promise<Keys> {
  const u = await control(emu, `/sites/${SITE}/users`, { email: `fc-${rand()}@example.com`, roles, generate_keys: true, password: 'pw' });
  return { key: u.api_key, secret: u.api_secret };
}

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  adminKeys = await keyedUser(['System Manager', 'Sales Manager']);
  salesKeys = await keyedUser(['Sales User']);
  other = await adminClient(emu);
});

afterEach(async () => {
  await control(emu, '/faults', undefined, 'DELETE');
});

afterAll(() => emu.close());

interface Harness {
  client: FrappeClient;
  metrics: Metrics;
  /** Backoff delays the client asked for, in order. */
  delays: number[];
}

function make(overrides: Partial<FrappeClientOptions> = {}, keys: Keys = adminKeys): Harness {
  const metrics = createMetrics();
  const delays: number[] = [];
  const client = createFrappeClient({
    site: SITE,
    baseUrl: emu.url,
    apiKey: () => keys.key,
    apiSecret: () => keys.secret,
    backoffBaseMs: 1,
    metrics,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...overrides,
  });
  return { client, metrics, delays };
}

/** Sum of `coc_frappe_rest_calls_total` over the rows matching `labels`. */
async function calls(metrics: Metrics, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metrics.restCalls.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

async function retries(metrics: Metrics): Promise<number> {
  const { values } = await metrics.restRetries.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** The rejection of `p`, which must reject. */
async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

interface Lead {
  first_name: string;
  organization?: string;
  job_title?: string;
  annual_revenue?: number;
}

// ---- lists ---------------------------------------------------------------------------------

describe('lists', () => {
  const tag = `FC-LIST-${rand()}`;
  const firstNames = ['Ada', 'Bea', 'Cy', 'Dee', 'Eve'];
  const h = () => make();

  beforeAll(async () => {
    const { client } = h();
    // Inserted out of order, so only order_by can produce the expected order.
    for (const [i, first_name] of ['Cy', 'Eve', 'Ada', 'Dee', 'Bea'].entries()) {
      await client.insert<Lead>('CRM Lead', { first_name, organization: tag, annual_revenue: (i + 1) * 100 });
    }
  });

  it('sends filters, fields, order and paging as Frappe expects', async () => {
    const { client } = h();
    const page = await client.getList<Lead & { name: string }>('CRM Lead', {
      fields: ['name', 'first_name'],
      filters: [['organization', '=', tag]],
      orderBy: [
        { field: 'first_name', order: 'asc' },
        { field: 'name', order: 'asc' },
      ],
      limitStart: 1,
      limitPageLength: 2,
    });
    expect(page.map((r) => r.first_name)).toEqual(['Bea', 'Cy']);
    expect(Object.keys(page[0]).sort()).toEqual(['first_name', 'name']);

    const desc = await client.getList<Lead>('CRM Lead', {
      fields: ['first_name'],
      filters: [['organization', '=', tag], ['annual_revenue', '>=', 300]],
      orderBy: 'first_name desc',
      limitPageLength: 0,
    });
    expect(desc.map((r) => r.first_name)).toEqual(['Dee', 'Bea', 'Ada']);

    const either = await client.getList<Lead>('CRM Lead', {
      fields: ['first_name'],
      filters: [['organization', '=', tag]],
      orFilters: [['first_name', 'in', ['Ada', 'Eve']], ['first_name', 'like', 'C%']],
      orderBy: { field: 'first_name', order: 'asc' },
    });
    expect(either.map((r) => r.first_name)).toEqual(['Ada', 'Cy', 'Eve']);
  });

  it('limitPageLength defaults to 20 (Frappe\'s default), 0 returns every row', async () => {
    const { client } = h();
    const many = `FC-MANY-${rand()}`;
    for (let i = 0; i < 21; i++) await other.insert('CRM Lead', { first_name: `M${String(i).padStart(2, '0')}`, organization: many });
    const base = { fields: ['name'], filters: [['organization', '=', many]] as [string, '=', string][], orderBy: 'name asc' };
    expect(await client.getList('CRM Lead', base)).toHaveLength(20);
    expect(await client.getList('CRM Lead', { ...base, limitPageLength: 0 })).toHaveLength(21);
  });

  it('listAll pages with limit_start until a short page', async () => {
    const { client, metrics } = h();
    const rows: string[] = [];
    for await (const row of client.listAll<Lead>('CRM Lead', {
      fields: ['first_name'],
      filters: [['organization', '=', tag]],
      orderBy: [
        { field: 'first_name', order: 'asc' },
        { field: 'name', order: 'asc' },
      ],
      pageSize: 2,
    })) {
      rows.push(row.first_name);
    }
    expect(rows).toEqual(firstNames);
    // Pages of 2, 2, 1: the short third page ends the listing.
    expect(await calls(metrics, { method: 'GET', endpoint: '/api/resource/CRM Lead', outcome: 'ok' })).toBe(3);
  });

  it('a list call too long for a request line goes as a POST to frappe.client.get_list, with the same answer', async () => {
    const { client, metrics } = h();
    // 300 names: about 9 KB of URL, past gunicorn's 4094-byte request line.
    const names = Array.from({ length: 300 }, (_, i) => `CRM-LEAD-NOT-THERE-${String(i).padStart(5, '0')}`);
    const mine = await client.getList<{ name: string }>('CRM Lead', { fields: ['name'], filters: [['organization', '=', tag]], orderBy: 'name asc', limitPageLength: 0 });
    names.push(...mine.map((r) => r.name));
    const args = { fields: ['first_name'], filters: [['name', 'in', names]] as [string, 'in', string[]][], orderBy: 'first_name asc', limitPageLength: 0 };
    const rows = await client.getList<Lead>('CRM Lead', args);
    expect(rows.map((r) => r.first_name)).toEqual(firstNames);
    expect(await calls(metrics, { method: 'POST', endpoint: '/api/method/frappe.client.get_list', outcome: 'ok' })).toBe(1);
    // The GET it replaced is what the site refuses (the emulator holds gunicorn's limit).
    const url = `${emu.url}/api/resource/CRM%20Lead?fields=${encodeURIComponent(JSON.stringify(args.fields))}&filters=${encodeURIComponent(JSON.stringify(args.filters))}`;
    const res = await fetch(url, { headers: { 'X-Frappe-Site-Name': SITE, Authorization: `token ${adminKeys.key}:${adminKeys.secret}` } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Request Line is too large \(\d+ &gt; 4094\)/);
  });

  it('getCount counts through frappe.client.get_count', async () => {
    const { client } = h();
    expect(await client.getCount<Lead>('CRM Lead', [['organization', '=', tag]])).toBe(5);
    expect(await client.getCount<Lead>('CRM Lead', [['organization', '=', tag], ['first_name', 'like', '%e%']])).toBe(3);
  });
});

// ---- documents and methods ------------------------------------------------------------------

describe('documents', () => {
  it('insert, getDoc, update (PUT keeps other fields), remove', async () => {
    const { client } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Doc', organization: `FC-DOC-${rand()}` });
    expect(lead.name).toMatch(/^CRM-LEAD-/);
    expect(lead.docstatus).toBe(0);
    expect(typeof lead.modified).toBe('string');

    const read = await client.getDoc<Lead>('CRM Lead', lead.name);
    expect(read).toMatchObject({ name: lead.name, first_name: 'Doc', owner: expect.any(String) });

    const updated = await client.update<Lead>('CRM Lead', lead.name, { job_title: 'CTO' });
    expect(updated).toMatchObject({ first_name: 'Doc', job_title: 'CTO' });
    expect(updated.modified > lead.modified).toBe(true);

    await client.remove('CRM Lead', lead.name);
    const gone = await failure(client.getDoc('CRM Lead', lead.name));
    expect(gone).toBeInstanceOf(FrappeApiError);
    expect(gone.status).toBe(404);
  });

  it('URL-encodes the DocType and a name holding / # ? & and spaces', async () => {
    const { client } = make();
    const name = `COC probe/${rand()}#x?y=1&z`;
    const created = await client.insert('Client Script', { name, dt: 'CRM Lead', script: '' });
    expect(created.name).toBe(name);
    expect((await client.getDoc('Client Script', name)).name).toBe(name);
    await client.remove('Client Script', name);
    expect((await failure(client.getDoc('Client Script', name))).excType).toBe('DoesNotExistError');
  });

  it('call answers `message`, or undefined when the method returned None', async () => {
    const { client } = make();
    expect(await client.call<string>('ping')).toBe('pong');
    const me = await client.call<string>('frappe.auth.get_logged_user', {}, 'GET');
    expect(me).toMatch(/^fc-.*@example\.com$/);
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Called' });
    expect(await client.call('frappe.client.delete', { doctype: 'CRM Lead', name: lead.name })).toBeUndefined();
  });

  it('reads credentials lazily: a rotated secret takes effect on the next request', async () => {
    let secret = 'not-the-secret';
    const { client } = make({ apiSecret: () => secret });
    expect((await failure(client.call('ping', {}, 'GET'))).status).toBe(401);
    secret = adminKeys.secret;
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
  });

  it('without X-Frappe-Site-Name the emulator cannot tell the site from 127.0.0.1: HTML 404', async () => {
    const { client } = make({ sendSiteHeader: false });
    const err = await failure(client.call('ping', {}, 'GET'));
    expect(err).toBeInstanceOf(FrappeApiError);
    expect(err.status).toBe(404);
    expect(err.excType).toBeUndefined();
    expect(err.message).toMatch(/not a Frappe JSON answer/);
  });
});

// ---- errors -----------------------------------------------------------------------------------

describe('typed errors', () => {
  it('404 DoesNotExistError: permanent, with the decoded message', async () => {
    const { client, metrics, delays } = make();
    const err = await failure(client.getDoc('CRM Lead', 'CRM-LEAD-0000-00000'));
    expect(err).toBeInstanceOf(FrappeApiError);
    expect(err).toMatchObject({
      name: 'FrappeApiError',
      code: 'frappe_error',
      retriable: false,
      status: 404,
      excType: 'DoesNotExistError',
      messages: ['CRM Lead CRM-LEAD-0000-00000 not found'],
      method: 'GET',
      path: '/api/resource/CRM Lead/CRM-LEAD-0000-00000',
    });
    expect(err.message).toBe('GET /api/resource/CRM Lead/CRM-LEAD-0000-00000 → 404 DoesNotExistError: CRM Lead CRM-LEAD-0000-00000 not found');
    expect(isPermanent(err)).toBe(true);
    expect(isRetriable(err)).toBe(false);
    expect(await calls(metrics)).toBe(1);
    expect(delays).toEqual([]);
  });

  it('417 MandatoryError: one decoded message per missing field', async () => {
    const { client } = make();
    const err = await failure(client.insert('Address', { address_title: `FC ${rand()}`, address_type: 'Billing' }));
    expect(err).toMatchObject({ status: 417, excType: 'MandatoryError' });
    expect(err.messages).toEqual([
      'Error: Value missing for Address: Address Line 1',
      'Error: Value missing for Address: City/Town',
      'Error: Value missing for Address: Country',
    ]);
    expect(err.message).toContain('POST /api/resource/Address → 417 MandatoryError: Error: Value missing for Address: Address Line 1');
  });

  // Frappe 15.55.1's texts (recordings restricted-get-list-method-403, restricted-wo-get-403): the
  // permission check log in _server_messages, "No permission for …" as the list's error_message.
  it('403 PermissionError: the permission check log in messages, the list refusal in errorMessage (HTML stripped)', async () => {
    const { client } = make({}, salesKeys);
    const denied = 'User (fc-\\w+@example\\.com) does not have doctype access via role permission for document Work Order';
    const list = await failure(client.getList('Work Order', { orderBy: 'name asc' }));
    expect(list).toMatchObject({ status: 403, excType: 'PermissionError', messages: [expect.stringMatching(new RegExp(`^${denied}$`))], errorMessage: 'No permission for Work Order' });

    const doc = await failure(client.getDoc('Work Order', emu.seeds[SITE].work_orders[0]));
    expect(doc).toMatchObject({ status: 403, excType: 'PermissionError', messages: [expect.stringMatching(new RegExp(`^${denied} User \\1 does not have access to this document$`))] });
    expect(doc.message).toMatch(/→ 403 PermissionError: User \S+ does not have doctype access via role permission for document Work Order/);
    expect(isPermanent(doc)).toBe(true);
  });

  it('401: says the key pair was refused for the site, and carries neither key nor secret', async () => {
    const wrong = { key: adminKeys.key, secret: `wrong-${rand()}-secret` };
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    const { client, metrics } = make({ logger }, wrong);
    const err = await failure(client.getList('CRM Lead', { orderBy: 'name asc' }));
    expect(err).toBeInstanceOf(FrappeApiError);
    expect(err).toMatchObject({ status: 401, excType: 'AuthenticationError' });
    expect(err.message).toBe(`GET /api/resource/CRM Lead → 401 AuthenticationError: the API key/secret was refused by site ${SITE} (check the key pair configured for this site)`);
    for (const text of [String(err), err.message, JSON.stringify(err), lines.join('\n')]) {
      expect(text).not.toContain(wrong.secret);
      expect(text).not.toContain(wrong.key);
    }
    // Not retried: a refused key stays refused.
    expect(await calls(metrics)).toBe(1);
  });

  it('decodes the envelope pieces on their own', () => {
    const raw = JSON.stringify([JSON.stringify({ message: 'Row #1: <b>Qty</b> &amp; rate', title: 'Message' }), JSON.stringify({ title: 'x' })]);
    expect(decodeServerMessages(raw)).toEqual(['Row #1: Qty & rate']);
    expect(decodeServerMessages(undefined)).toEqual([]);
    expect(stripHtml('<details><summary>Not permitted.</summary>Function <strong>x.y</strong> is not whitelisted.</details>')).toBe(
      'Not permitted. Function x.y is not whitelisted.',
    );
    const now = Date.parse('2026-01-05T09:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(endpointOf('/api/resource/CRM%20Lead/CRM-LEAD-1?fields=x')).toBe('/api/resource/CRM Lead');
    expect(endpointOf('/api/method/frappe.client.get_count')).toBe('/api/method/frappe.client.get_count');
  });
});

// ---- retries ----------------------------------------------------------------------------------

describe('retries', () => {
  it('an HTML 502 twice, then success on the third attempt', async () => {
    await control(emu, '/faults', { rules: [{ match: 'GET /api/method/ping', mode: 'error', status: 502, count: 2 }] });
    const { client, metrics, delays } = make();
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    const labels = { site: SITE, method: 'GET', endpoint: '/api/method/ping' };
    expect(await calls(metrics, labels)).toBe(3);
    expect(await calls(metrics, { ...labels, outcome: '5xx' })).toBe(2);
    expect(await calls(metrics, { ...labels, outcome: 'ok' })).toBe(1);
    expect(await retries(metrics)).toBe(2);
    // Full jitter under a ceiling of 1 ms, then 2 ms.
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThanOrEqual(1);
    expect(delays[1]).toBeLessThanOrEqual(2);
  });

  it('429 with Retry-After waits at least that long', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 429, count: 1, retryAfterSec: 3 }] });
    const { client, metrics, delays } = make();
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    expect(delays).toEqual([3000]);
    expect(await calls(metrics, { outcome: '429' })).toBe(1);
    expect(await calls(metrics, { outcome: 'ok' })).toBe(1);
  });

  it('a Retry-After beyond backoffMaxMs ends retries with the retriable error, for the job store to schedule', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 429, count: 5, retryAfterSec: 60 }] });
    const { client, metrics, delays } = make({ backoffMaxMs: 5_000 });
    const err = await failure(client.call('ping', {}, 'GET'));
    expect(err).toBeInstanceOf(FrappeThrottledError);
    expect(err.retryAfterMs).toBe(60_000);
    expect(isRetriable(err)).toBe(true);
    expect(delays).toEqual([]);
    expect(await calls(metrics)).toBe(1);
  });

  it('a hung request times out per attempt and is retried until the fault is used up', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 2 }] });
    const { client, metrics } = make({ timeoutMs: 150 });
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    expect(await calls(metrics, { outcome: 'timeout' })).toBe(2);
    expect(await calls(metrics, { outcome: 'ok' })).toBe(1);
  });

  it('a hung read gives up at readTimeoutMs and is sent again at once, without a backoff', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 1 }] });
    const { client, metrics, delays } = make({ readTimeoutMs: 100, writeTimeoutMs: 60_000 });
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    expect(await calls(metrics, { method: 'GET', outcome: 'timeout' })).toBe(1);
    expect(delays).toEqual([]);
  });

  it('the timeout error names the timeout of its kind', async () => {
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0 }] });
    const { client } = make({ readTimeoutMs: 50, writeTimeoutMs: 120, maxRetries: 0 });
    expect((await failure(client.getDoc('CRM Lead', 'CRM-LEAD-NONE'))).message).toMatch(/timed out after 50 ms/);
    expect((await failure(client.insert('CRM Lead', { first_name: 'Late' }))).message).toMatch(/timed out after 120 ms/);
  });

  it('timeoutMs alone sets both, reads capped at 5 s', async () => {
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0 }] });
    const { client } = make({ timeoutMs: 80, maxRetries: 0 });
    expect((await failure(client.getDoc('CRM Lead', 'CRM-LEAD-NONE'))).message).toMatch(/timed out after 80 ms/);
    expect((await failure(client.insert('CRM Lead', { first_name: 'Late' }))).message).toMatch(/timed out after 80 ms/);
  });

  it('a read left hanging is sent once more at the hedge delay, and the first answer wins', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 1 }] });
    const { client, metrics, delays } = make({ readTimeoutMs: 10_000, hedgeReadsAfterMs: 30 });
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    // The hung copy is aborted as the loser, not timed out, and no backoff was waited.
    expect(await calls(metrics, { endpoint: '/api/method/ping', outcome: 'ok' })).toBe(1);
    expect(await calls(metrics, { endpoint: '/api/method/ping', outcome: 'hedge_lost' })).toBe(1);
    expect(await calls(metrics, { endpoint: '/api/method/ping', outcome: 'timeout' })).toBe(0);
    expect(delays).toEqual([]);
  });

  it('a read that answers before the hedge delay is sent once', async () => {
    const { client, metrics } = make({ hedgeReadsAfterMs: 10_000 });
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    expect(await calls(metrics, { endpoint: '/api/method/ping' })).toBe(1);
  });

  it('a definitive answer of either copy settles a hedged read; a retriable failure of both goes to the retry loop', async () => {
    // The first copy hangs, the hedge gets a 404: that is the answer, the hung copy is dropped.
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0, count: 1 }] });
    const { client, metrics } = make({ readTimeoutMs: 10_000, hedgeReadsAfterMs: 30 });
    const err = await failure(client.getDoc('CRM Lead', 'CRM-LEAD-NONE'));
    expect(err).toBeInstanceOf(FrappeApiError);
    expect(await calls(metrics, { outcome: 'hedge_lost' })).toBe(1);
    // Both copies fail with a 502: one backoff, then the next attempt answers.
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 1 }, { match: 'ping', mode: 'error', status: 502, count: 1 }] });
    const second = make({ readTimeoutMs: 300, hedgeReadsAfterMs: 30 });
    expect(await second.client.call('ping', {}, 'GET')).toBe('pong');
    expect(second.delays).toHaveLength(1);
    expect(await calls(second.metrics, { endpoint: '/api/method/ping', outcome: '5xx' })).toBe(1);
    expect(await calls(second.metrics, { endpoint: '/api/method/ping', outcome: 'timeout' })).toBe(1);
  });

  it('a write times out by its endpoint\'s pace once that is known, within the floor and the ceiling', async () => {
    const { client } = make({ writeTimeoutMs: 8_000, writeTimeoutFloorMs: 150, maxRetries: 0 });
    // Until 16 answers of an endpoint are known, a write gets the whole ceiling.
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0, count: 1 }] });
    const first = make({ writeTimeoutMs: 400, writeTimeoutFloorMs: 150, maxRetries: 0 });
    expect((await failure(first.client.insert('CRM Lead', { first_name: 'first' }))).message).toMatch(/timed out after 400 ms/);
    for (let i = 0; i < 16; i++) await client.insert('CRM Lead', { first_name: `paced ${i}` });
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0, count: 1 }] });
    const hung = (await failure(client.insert('CRM Lead', { first_name: 'hung' }))).message as string;
    const ms = Number(/timed out after (\d+) ms/.exec(hung)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(8_000);
    // Another endpoint has no pace yet: the ceiling.
    await control(emu, '/faults', { rules: [{ match: 'Contact', mode: 'timeout', status: 0, count: 1 }] });
    const other = make({ writeTimeoutMs: 300, writeTimeoutFloorMs: 150, maxRetries: 0 });
    for (let i = 0; i < 16; i++) await other.client.insert('CRM Lead', { first_name: `other ${i}` });
    expect((await failure(other.client.insert('Contact', { first_name: 'n' }))).message).toMatch(/timed out after 300 ms/);
  });

  it('writes are never hedged: a POST left hanging is sent once and times out', async () => {
    await control(emu, '/faults', { rules: [{ match: 'CRM Lead', mode: 'timeout', status: 0, count: 1 }] });
    const { client, metrics } = make({ writeTimeoutMs: 300, hedgeReadsAfterMs: 10, maxRetries: 0 });
    expect((await failure(client.insert('CRM Lead', { first_name: 'Once' }))).message).toMatch(/timed out after 300 ms/);
    expect(await calls(metrics, { method: 'POST' })).toBe(1);
  });

  it('a call slower than slowCallMs marks its job stalled until it settles, and so does a backoff', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 1 }, { match: 'ping', mode: 'error', status: 502, count: 1 }] });
    const events: string[] = [];
    const { client } = make({ readTimeoutMs: 200, slowCallMs: 20, hedgeReadsAfterMs: false, onWait: markStalled, sleep: async () => void events.push('sleep') });
    const hook = () => {
      events.push('stalled');
      return () => void events.push('resumed');
    };
    expect(await runWithStallHook(hook, () => client.call('ping', {}, 'GET'))).toBe('pong');
    // The hung attempt stalls and resumes at its timeout; the 502's backoff is waited out stalled
    // (a loaded machine may make the 502 itself slow too: an extra pair in between).
    expect(events.slice(0, 2)).toEqual(['stalled', 'resumed']);
    expect(events.slice(-3)).toEqual(['stalled', 'sleep', 'resumed']);
    expect(events.filter((e) => e === 'stalled').length).toBe(events.filter((e) => e === 'resumed').length);
  });

  it('marks a 5xx answer as over on the site, a timeout or a 504 not', async () => {
    const { client } = make({ readTimeoutMs: 50, maxRetries: 0 });
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 502, count: 1 }] });
    expect(requestIsOver(await failure(client.call('ping', {}, 'GET')))).toBe(true);
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 504, count: 1 }] });
    expect(requestIsOver(await failure(client.call('ping', {}, 'GET')))).toBe(false);
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0, count: 1 }] });
    expect(requestIsOver(await failure(client.call('ping', {}, 'GET')))).toBe(false);
  });

  it('a dropped connection is a network error, retried', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'reset', status: 0, count: 1 }] });
    const { client, metrics } = make();
    expect(await client.call('ping', {}, 'GET')).toBe('pong');
    expect(await calls(metrics, { outcome: 'network' })).toBe(1);
    expect(await calls(metrics, { outcome: 'ok' })).toBe(1);
  });

  it('a persistent 500 gives FrappeUnavailableError after maxRetries + 1 attempts', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 500 }] });
    const { client, metrics, delays } = make({ maxRetries: 3 });
    const err = await failure(client.call('ping', {}, 'GET'));
    expect(err).toBeInstanceOf(FrappeUnavailableError);
    expect(err.message).toMatch(/^GET \/api\/method\/ping → 500: .*\(gave up after 4 attempts\)$/);
    expect(isRetriable(err)).toBe(true);
    expect(await calls(metrics, { outcome: '5xx' })).toBe(4);
    expect(await retries(metrics)).toBe(3);
    expect(delays).toHaveLength(3);
  });

  it('never retries a 417, nor a call the caller aborted', async () => {
    const { client, metrics, delays } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Stale' });
    await client.update<Lead>('CRM Lead', lead.name, { job_title: 'First' });
    const err = await failure(client.update<Lead>('CRM Lead', lead.name, { job_title: 'Second', modified: lead.modified }));
    expect(err).toMatchObject({ status: 417, excType: 'TimestampMismatchError' });
    expect(err.message).toMatch(/^PUT \/api\/resource\/CRM Lead\/CRM-LEAD-\S+ → 417 TimestampMismatchError: Error: Document has been modified after you have opened it/);
    expect(await calls(metrics, { method: 'PUT', outcome: '4xx' })).toBe(1);

    const aborted = new AbortController();
    aborted.abort();
    const abortErr = await failure(client.call('ping', {}, 'GET', { signal: aborted.signal }));
    expect(abortErr.name).toBe('AbortError');
    expect(await calls(metrics, { outcome: 'aborted' })).toBe(1);
    expect(delays).toEqual([]);
  });

  it('an abort during backoff stops the retries', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 503, count: 5 }] });
    const ac = new AbortController();
    const { client, metrics } = make({
      // Real sleep semantics: the caller aborts while we wait, and the wait rejects with its reason.
      sleep: async (_ms, signal) => {
        ac.abort();
        throw signal?.reason;
      },
    });
    const err = await failure(client.call('ping', {}, 'GET', { signal: ac.signal }));
    expect(err.name).toBe('AbortError');
    expect(await calls(metrics)).toBe(1);
  });

  it('logs retries without the secret', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 502, count: 2 }] });
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    const { client } = make({ logger });
    await client.call('ping', {}, 'GET');
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.filter((l) => l.msg === 'retrying Frappe request').map((l) => [l.level, l.site, l.method, l.endpoint, l.attempt])).toEqual([
      ['debug', SITE, 'GET', '/api/method/ping', 1],
      ['warn', SITE, 'GET', '/api/method/ping', 2],
    ]);
    expect(lines.join('\n')).not.toContain(adminKeys.secret);
  });
});

// ---- optimistic saves -----------------------------------------------------------------------------

describe('saveWithLatest', () => {
  it('re-reads and re-applies after a real TimestampMismatchError', async () => {
    const { client, metrics } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Racy', organization: `FC-SAVE-${rand()}` });
    const seen: (string | undefined)[] = [];
    const saved = await client.saveWithLatest<Lead>('CRM Lead', lead.name, async (latest) => {
      seen.push(latest.job_title);
      // Another writer gets in between our read and our write, once.
      if (seen.length === 1) expect((await other.update('CRM Lead', lead.name, { job_title: 'Theirs' })).status).toBe(200);
      return { annual_revenue: 42 };
    });
    expect(seen).toEqual([undefined, 'Theirs']);
    expect(saved).toMatchObject({ name: lead.name, job_title: 'Theirs', annual_revenue: 42 });
    expect(await calls(metrics, { method: 'PUT', outcome: '4xx' })).toBe(1);
    expect(await calls(metrics, { method: 'PUT', outcome: 'ok' })).toBe(1);
  });

  it('answers null and writes nothing when there is nothing to change', async () => {
    const { client, metrics } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Calm' });
    expect(await client.saveWithLatest<Lead>('CRM Lead', lead.name, () => null)).toBeNull();
    expect(await client.saveWithLatest<Lead>('CRM Lead', lead.name, () => ({}))).toBeNull();
    expect(await calls(metrics, { method: 'PUT' })).toBe(0);
    expect((await client.getDoc('CRM Lead', lead.name)).modified).toBe(lead.modified);
  });

  it('gives up after `attempts` with a retriable timestamp_conflict', async () => {
    const { client } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Busy' });
    let rounds = 0;
    const err = await failure(
      client.saveWithLatest<Lead>(
        'CRM Lead',
        lead.name,
        async () => {
          rounds += 1;
          await other.update('CRM Lead', lead.name, { job_title: `Theirs ${rounds}` });
          return { annual_revenue: rounds };
        },
        { attempts: 2 },
      ),
    );
    expect(rounds).toBe(2);
    expect(err).toBeInstanceOf(RetriableError);
    expect(err.code).toBe('timestamp_conflict');
    expect(isRetriable(err)).toBe(true);
    expect(err.cause).toMatchObject({ excType: 'TimestampMismatchError' });
  });

  it('does not retry other errors', async () => {
    const { client } = make();
    const lead = await client.insert<Lead>('CRM Lead', { first_name: 'Picky' });
    let rounds = 0;
    const err = await failure(
      client.saveWithLatest('CRM Lead', lead.name, () => {
        rounds += 1;
        return { no_of_employees: 'Huge' };
      }),
    );
    expect(rounds).toBe(1);
    expect(err).toMatchObject({ status: 417, excType: 'ValidationError' });
  });
});

describe("the site's clock", () => {
  // RFC 9110 §6.6.1 Date: the site's web server stamps every answer; the emulator from its own clock.
  it("serverNow reads the site's HTTP Date, not the local clock", async () => {
    const { client } = make();
    await control(emu, '/clock', { now: '2026-03-02T04:30:15Z', freeze: true });
    try {
      expect((await client.serverNow()).toISOString()).toBe('2026-03-02T04:30:15.000Z');
      await control(emu, '/clock', { advance_seconds: 3600 });
      await client.getList('CRM Lead', { orderBy: 'name asc', limitPageLength: 1 });
      expect(client.lastServerDate()?.toISOString()).toBe('2026-03-02T05:30:15.000Z');
    } finally {
      await control(emu, '/clock', { reset: true });
    }
  });

  it('falls back to the local clock, with a warning, when the answer has no Date', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    const bare: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const headers = new Headers(res.headers);
      headers.delete('date');
      return new Response(await res.text(), { status: res.status, headers });
    };
    const { client } = make({ fetch: bare, logger, now: () => Date.UTC(2030, 0, 1) });
    expect((await client.serverNow()).toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(lines.join('')).toMatch(/without an HTTP Date header/);
  });
});
