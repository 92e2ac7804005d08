/**
 * Feature-handler tests: an emulated site with the product installed (as `site install` does), the
 * companion's API user with the role it ships and nothing else, a sales rep who writes leads and
 * mail, and a sidecar wired to the real handler registry — plus waiting on sidecar events.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { install } from '../../scripts/site/install.js';
import { loadDesired } from '../../lib/site/records.js';
import type { SidecarConfig } from '../../lib/config/load.js';
import { createFrappeClient } from '../../lib/frappe/client.js';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import type { HandlerRegistry } from '../../sidecar/handlers/types.js';
import type { JobRecord, JobSpec } from '../../sidecar/jobs/types.js';
import { createLogger } from '../../lib/log.js';
import { loadManifest, parseManifest } from '../../lib/manifest/load.js';
import type { HooksManifest } from '../../lib/manifest/schema.js';
import { jobId } from '../../sidecar/realtime/dispatch.js';
import { startSidecar, type Sidecar, type SidecarOptions } from '../../sidecar/runtime.js';
import { SITE, client, control, login, userClient, type Client } from './emulator.js';
import { localConfig } from './config.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface InstalledSite {
  emu: RunningEmulator;
  /** The sidecar's API user: Order Companion + Super Email User, and a Helpdesk agent (see README). */
  companion: { user: string; key: string; secret: string };
  /** A sales rep (System User): owns leads, sends mail, creates tickets. */
  rep: Client & { user: string };
  /** Administrator over a session. */
  root: Client;
}

/** One emulated site in `timeZone` with the product's records installed by `install()`. */
export async function installedSite(timeZone: string, opts: { seed?: 'demo' } = {}): Promise<InstalledSite> {
  const emu = await startEmulator({ sites: [{ name: SITE, timeZone, seed: opts.seed }], serveSite: SITE, defaultSite: SITE });
  const installer = await control(emu, `/sites/${SITE}/users`, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
  const c = createFrappeClient({ site: SITE, baseUrl: emu.url, apiKey: () => installer.api_key, apiSecret: () => installer.api_secret, backoffBaseMs: 1 });
  const root = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
  // README "Put it on your site": the API user exists first (its roles come after the install
  // has created Order Companion), then `site install --sidecar-user` makes it a Helpdesk agent,
  // which Helpdesk requires to show it any ticket (hd_ticket.py has_permission/permission_query).
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'companion@example.com', generate_keys: true });
  await install(c, loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')), undefined, { sidecarUser: u.name });
  // Frappe shows email Communications in lists only to System Managers and "Super Email User"
  // (communication.py get_permission_query_conditions_for_communication); sites often lack the
  // role, and an administrator creates it, as the README says.
  const role = await root.insert('Role', { role_name: 'Super Email User', desk_access: 0 });
  if (role.status !== 200) throw new Error(`Super Email User: ${JSON.stringify(role.body)}`);
  await addRoles(root, u.name, ['Order Companion', 'Super Email User']);
  const rep = await userClient(emu, 'rep@example.com', ['Sales Manager', 'Sales User', 'Agent', 'System Manager']);
  return { emu, companion: { user: u.name, key: u.api_key, secret: u.api_secret }, rep, root };
}

/** An administrator adds `roles` to a user (User → Roles): the whole table is sent, as the form does. */
export async function addRoles(root: Client, user: string, roles: string[]): Promise<void> {
  const doc = (await root.get('User', user)).body.data;
  const have = ((doc.roles ?? []) as { role: string }[]).map((r) => ({ role: r.role }));
  const res = await root.update('User', user, { roles: [...have, ...roles.filter((r) => !have.some((h) => h.role === r)).map((role) => ({ role }))] });
  if (res.status !== 200) throw new Error(`roles of ${user}: ${JSON.stringify(res.body)}`);
}

/** The order-history wiring of hooks_manifest.json alone: the request flow and the refresh. */
export const ORDER_HISTORY_MANIFEST: HooksManifest = parseManifest({
  app: 'crm_order_companion',
  realtime: {
    'Order Sync Request': { list_update: ['order_history.request'] },
    'Sales Order': { list_update: ['order_history.refresh'] },
    'Work Order': { list_update: ['order_history.refresh'] },
  },
});

/**
 * A sidecar with only the order-history wiring, once its realtime link is up, its first catch-up has
 * run, and the emulator has put it in the three DocType rooms — so what a test does next is heard.
 */
export async function startOrderHistorySidecar(site: InstalledSite): Promise<Sidecar> {
  const sc = await startWith({ config: configFor(site), manifest: ORDER_HISTORY_MANIFEST });
  await until(sc, () => sc.status()[0]!.realtime.connected && sc.status()[0]!.catchup.lastRunAt !== null, 'the realtime link and first catch-up');
  for (const dt of Object.keys(ORDER_HISTORY_MANIFEST.realtime)) await subscribedTo(site.emu, dt);
  return sc;
}

export function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination: stream }) };
}

export function configFor(site: InstalledSite, dataDir = mkdtempSync(join(tmpdir(), 'coc-handlers-'))): SidecarConfig {
  return localConfig({ name: SITE, url: site.emu.url, key: site.companion.key, secret: site.companion.secret }, { dataDir, logLevel: 'debug' });
}

export async function startWith(opts: {
  config: SidecarConfig;
  manifest: HooksManifest;
  handlers?: HandlerRegistry;
  logger?: ReturnType<typeof captureLogs>['logger'];
  /** REST client options on top of the tests' quick backoff and 5 s timeout. */
  rest?: SidecarOptions['rest'];
}): Promise<Sidecar> {
  return startSidecar({
    config: opts.config,
    manifest: opts.manifest,
    handlers: opts.handlers ?? builtinHandlers,
    logger: opts.logger ?? captureLogs().logger,
    http: false,
    rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 5000, ...opts.rest },
    jobDefaults: { maxAttempts: 3, backoffMs: 5 },
    reconnectBaseMs: 20,
  });
}

/**
 * Resolve once `predicate` holds, re-checking on every sidecar event (job finished, realtime,
 * health, catch-up) — waiting for what happens, not for time. The limit only bounds a failure.
 */
export async function until(sc: Sidecar, predicate: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  if (await predicate()) return;
  await new Promise<void>((resolve, reject) => {
    const names = ['job', 'realtime', 'probe', 'health', 'catchup'];
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), limitMs);
    let checking = false;
    let again = false;
    let done = false;
    const check = async () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          if (await predicate()) return finish();
        } while (again && !done);
      } catch (e) {
        finish(e as Error);
      } finally {
        checking = false;
      }
    };
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const n of names) sc.events.off(n, check);
      if (err) reject(err);
      else resolve();
    };
    for (const n of names) sc.events.on(n, check);
  });
}

/** Enqueue a job and wait for it to complete; a dead letter fails the test with its error. */
export async function runJob(sc: Sidecar, spec: JobSpec): Promise<JobRecord> {
  await sc.store.enqueue(spec);
  let job: JobRecord | null = null;
  await until(
    sc,
    async () => {
      job = await sc.store.get(spec.id);
      if (job?.state === 'failed') throw new Error(`job ${spec.id} failed: ${job.lastError}`);
      return job?.state === 'completed';
    },
    `job ${spec.id}`,
  );
  return job!;
}

/** The emulator has joined the sidecar's socket to `doctype:<doctype>` (Frappe sends no acknowledgement). */
export async function subscribedTo(emu: { url: string }, doctype: string): Promise<void> {
  for (;;) {
    const views: { rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${SITE}`, undefined, 'GET');
    if (views.some((v) => v.pending === 0 && v.rooms.includes(`doctype:${doctype}`))) return;
    await new Promise((r) => setImmediate(r));
  }
}

/** The site's wall clock (System Settings time zone), as Frappe stores datetimes. */
export async function siteNow(emu: { url: string }): Promise<string> {
  const clock = await control(emu, '/clock', undefined, 'GET');
  return String(clock.sites[SITE].now);
}

/** Naive `YYYY-MM-DD HH:MM:SS[.ffffff]` → epoch-like ms of the wall clock (for differences only). */
export function wallMs(value: unknown): number {
  return Date.parse(`${String(value).replace(' ', 'T').slice(0, 23)}Z`);
}

/**
 * An email Communication on a document, as Frappe records one: ours ("Sent", from the rep, an
 * enabled System User) or the customer's ("Received").
 */
export async function writeMail(site: InstalledSite, direction: 'Sent' | 'Received', doctype: string, name: string): Promise<any> {
  const sent = direction === 'Sent';
  const res = await site.rep.insert('Communication', {
    subject: sent ? 'Re: your order' : 'Question about my order',
    communication_medium: 'Email',
    communication_type: 'Communication',
    sent_or_received: direction,
    sender: sent ? site.rep.user : 'customer@customer.example',
    recipients: sent ? 'customer@customer.example' : site.rep.user,
    content: '<p>…</p>',
    reference_doctype: doctype,
    reference_name: name,
  });
  if (res.status !== 200) throw new Error(`Communication: ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** The job a Communication's version becomes (realtime and catch-up name it the same). */
export function communicationJob(comm: { name: string; modified: string }): JobSpec {
  return {
    id: jobId('comms.communication', { site: SITE, doctype: 'Communication', name: comm.name, modified: comm.modified }),
    name: 'comms.communication',
    site: SITE,
    data: { doctype: 'Communication', name: comm.name, modified: comm.modified, source: 'realtime' },
  };
}
