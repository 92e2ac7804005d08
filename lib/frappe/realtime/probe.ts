/**
 * Does this site's realtime reach our socket? A handshake alone does not say so: the realtime
 * server accepts any namespace that equals the site name the handshake headers give
 * (realtime/middlewares/authenticate.js `get_site_name` [v15]), while the web server publishes each
 * event to the namespace of the site that served the request (frappe/realtime.py `emit_via_redis`:
 * `"namespace": frappe.local.site`; realtime/index.js `io.of("/" + namespace)`). Behind
 * `bench serve --site X` (or `bench use X`) every request is served by X whatever
 * `X-Frappe-Site-Name` says (frappe/app.py), so a sidecar configured with the wrong name signs in,
 * connects, and never hears an event.
 *
 * The probe asks the site to publish one event to us and waits for it:
 * `frappe.desk.doctype.notification_log.notification_log.trigger_indicator_hide` publishes
 * `indicator_hide` to room `user:<session user>` at once (after_commit False), writes nothing, and
 * needs no permission beyond being signed in. Every socket joins its user room on connect, before
 * the client is told it is connected (realtime/handlers/frappe_handlers.js [v15]), so there is no
 * subscription to wait for and no race with a room join. The only side effect: desk tabs signed
 * in as the same user hide their notification dot.
 */
import { describeError } from '../../errors.js';
import { redactSecrets } from '../../log.js';

export const PROBE_METHOD = 'frappe.desk.doctype.notification_log.notification_log.trigger_indicator_hide';
export const PROBE_EVENT = 'indicator_hide';
/** @defaultValue for `realtimeProbeTimeoutMs` */
export const PROBE_TIMEOUT_MS = 10_000;

export type ProbeResult =
  /** The site's event arrived on our socket. */
  | { ok: true }
  /** The site published (the call succeeded) and nothing arrived in time: we listen in the wrong place. */
  | { ok: false; deaf: true; error: string }
  /** The call itself failed: nothing is known about the realtime path yet. */
  | { ok: false; deaf: false; error: string };

export interface ProbeOptions {
  /** The site name we dial as the namespace. */
  site: string;
  /** Listen for `event` on the realtime socket; returns a function that stops listening. */
  listen: (event: string, fn: () => void) => () => void;
  /** Ask the site to publish the probe event (a REST call of PROBE_METHOD). */
  trigger: () => Promise<unknown>;
  timeoutMs?: number;
}

/** What an administrator reads when the probe's event never came. */
export function deafMessage(site: string, timeoutMs: number): string {
  return (
    `realtime events of this site do not reach the sidecar: it listens on namespace /${site} and heard nothing within ${timeoutMs} ms of asking the site for an event. ` +
    `If the site is not named "${site}", set FRAPPE_SITE (or "name" in COC_CONFIG) to the site's name — the folder under sites/, as in \`bench --site NAME\` ` +
    '(a bench serving one site answers REST for it whatever name we send, but publishes its events only to its own namespace)'
  );
}

export async function probeRealtime(opts: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  let heard!: () => void;
  const arrived = new Promise<void>((resolve) => (heard = resolve));
  // Listen before asking: the event may arrive before the REST answer does.
  const stop = opts.listen(PROBE_EVENT, () => heard());
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      await opts.trigger();
    } catch (e) {
      return { ok: false, deaf: false, error: `could not ask the site for a probe event (${redactSecrets(describeError(e))}); will try again` };
    }
    const outcome = await Promise.race([
      arrived.then(() => 'heard' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      }),
    ]);
    return outcome === 'heard' ? { ok: true } : { ok: false, deaf: true, error: deafMessage(opts.site, timeoutMs) };
  } finally {
    if (timer) clearTimeout(timer);
    stop();
  }
}
