/**
 * Catch-up against the emulator: watermark on first start (also for an empty DocType), paging in
 * `modified` order without skipping, and what a repeated pass sees again.
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { createFrappeClient, type FrappeClient } from '../../sidecar/frappe/client.js';
import { catchUp, EPOCH } from '../../sidecar/realtime/catchup.js';
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
  expect(h.watermark).toBe(EPOCH);
  const deals: { name: string; modified: string }[] = [];
  for (let i = 0; i < 5; i++) deals.push((await writer.insert('CRM Deal', { status: 'Qualification' })).body.data);
  // Move the oldest deal to the end: catch-up must follow `modified`, not names.
  const touched = (await writer.update('CRM Deal', deals[0].name, { probability: 10 })).body.data;
  const result = await h.pass();
  const expected = [...deals.slice(1), touched].map((d) => `${d.name}@${d.modified}`);
  expect(h.seen).toEqual(expected);
  expect(result.documents).toBe(5);
  expect(result.pages).toBeGreaterThanOrEqual(3);
  expect(h.watermark).toBe(touched.modified);

  // A later pass re-lists only what sits exactly at the watermark (collapsed downstream by job id).
  h.seen.length = 0;
  await h.pass();
  expect(h.seen).toEqual([`${touched.name}@${touched.modified}`]);
});
