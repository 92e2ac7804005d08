/**
 * Catch-up against the emulator: watermark on first start (also for an empty DocType), paging in
 * `modified` order without skipping, and what a repeated pass sees again.
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { createFrappeClient, type FrappeClient } from '../../lib/frappe/client.js';
import { catchUp, EPOCH, parseCursor } from '../../sidecar/realtime/catchup.js';
import { SITE, adminClient, control, start, type Client } from '../helpers/emulator.js';

let emu: RunningEmulator;
let frappe: FrappeClient;
let writer: Client;

beforeAll(async () => {
  emu = await start();
  writer = await adminClient(emu);
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'catchup@example.com', roles: ['Sales Manager'], generate_keys: true });
  frappe = createFrappeClient({ site: SITE, baseUrl: emu.url, apiKey: () => u.api_key, apiSecret: () => u.api_secret });
});

afterAll(async () => {
  await emu.close();
});

function harness(pageSize: number) {
  let watermark: string | null = null;
  const seen: string[] = [];
  return {
    seen,
    get watermark() {
      return watermark;
    },
    pass: () =>
      catchUp({
        site: SITE,
        doctype: 'CRM Deal',
        client: frappe,
        logger: pino({ level: 'silent' }),
        getWatermark: async () => watermark,
        setWatermark: async (m) => void (watermark = m),
        onVersion: async (name, modified) => void seen.push(`${name}@${modified}`),
        pageSize,
      }),
  };
}

it('an empty DocType starts from the beginning, so its first documents are caught up', async () => {
  const h = harness(2);
  expect((await h.pass()).documents).toBe(0);
  expect(parseCursor(h.watermark!)).toEqual({ modified: EPOCH, name: '' });
  const deals: { name: string; modified: string }[] = [];
  for (let i = 0; i < 5; i++) deals.push((await writer.insert('CRM Deal', { status: 'Qualification' })).body.data);
  // Move the oldest deal to the end: catch-up must follow `modified`, not names.
  const touched = (await writer.update('CRM Deal', deals[0].name, { probability: 10 })).body.data;
  const result = await h.pass();
  const expected = [...deals.slice(1), touched].map((d) => `${d.name}@${d.modified}`);
  expect(h.seen).toEqual(expected);
  expect(result.documents).toBe(5);
  expect(result.pages).toBeGreaterThanOrEqual(3);
  expect(parseCursor(h.watermark!)).toEqual({ modified: touched.modified, name: touched.name });

  // A later pass continues strictly after the cursor: nothing is seen twice.
  h.seen.length = 0;
  await h.pass();
  expect(h.seen).toEqual([]);
});

it('documents sharing one `modified` are paged exactly, even when one is saved again mid-pass', async () => {
  const h = harness(2);
  await h.pass(); // establishes the cursor after the deals of the first test
  const site = emu.site(SITE);
  // Four deals with the very same `modified` (a bulk write), inserted directly with a frozen clock.
  await control(emu, '/clock', { now: '2030-01-01T00:00:00Z', freeze: true });
  const same: string[] = [];
  for (let i = 0; i < 4; i++) same.push((await writer.insert('CRM Deal', { status: 'Qualification' })).body.data.name);
  const at = (await writer.get('CRM Deal', same[0])).body.data.modified as string;
  for (const n of same) site.db.put('CRM Deal', n, { ...site.db.get('CRM Deal', n)!, modified: at });
  await control(emu, '/clock', { reset: true });
  let resaved = false;
  const seen: string[] = [];
  await catchUp({
    site: SITE,
    doctype: 'CRM Deal',
    client: frappe,
    logger: pino({ level: 'silent' }),
    getWatermark: async () => h.watermark,
    setWatermark: async () => undefined,
    onVersion: async (name) => {
      seen.push(name);
      // Saving the first one again moves it past the others; the rest must still all be seen.
      if (!resaved) {
        resaved = true;
        await writer.update('CRM Deal', same[0], { probability: 20 });
      }
    },
    pageSize: 2,
  });
  for (const n of same) expect(seen).toContain(n);
});
