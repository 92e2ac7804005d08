/**
 * Errors as the Frappe client throws them, read for the doctor: the HTTP status, Frappe's own words,
 * and what an administrator should change when a request got no usable answer (shared by the checks).
 */
import type { SiteConfig } from '../../../lib/config/load.js';
import { isNoFrappeAnswer } from '../../../lib/frappe/errors.js';

interface ClientErrorShape {
  name?: string;
  message?: string;
  status?: number;
  excType?: string;
  messages?: string[];
  errorMessage?: string;
}

function asClientError(err: unknown): ClientErrorShape {
  return (err && typeof err === 'object' ? err : { message: String(err) }) as ClientErrorShape;
}

export function statusOf(err: unknown): number | undefined {
  const e = asClientError(err);
  return e.name === 'FrappeApiError' ? e.status : undefined;
}

/** Frappe's own words when it gave any, else the client's headline after the arrow. */
export function frappeReason(err: unknown): string {
  const e = asClientError(err);
  const said = [...(e.messages ?? []), ...(e.errorMessage ? [e.errorMessage] : [])].join(' | ');
  if (said) return said;
  const msg = e.message ?? String(err);
  const arrow = msg.indexOf('→ ');
  // The doctor makes one attempt on purpose, so the client's retry note says nothing here.
  return (arrow >= 0 ? msg.slice(arrow + 2) : msg).replace(/^no answer: /, '').replace(/ \(gave up after \d+ attempts?\)$/, '');
}

/** Why a request got no usable answer, phrased for the connect check (and reused by others). */
export function describeRestFailure(err: unknown, site: SiteConfig): { message: string; fix: string } {
  const e = asClientError(err);
  const status = statusOf(err);
  // Something else answered (or nothing did): the client's sentence says so and what came back.
  if (isNoFrappeAnswer(err)) {
    const sentence = (e.message ?? '').replace(/ \(gave up after \d+ attempts?\)$/, '');
    const cut = sentence.lastIndexOf('; ');
    return {
      message: cut > 0 ? sentence.slice(0, cut) : sentence,
      fix:
        status === undefined
          ? `check that the site URL is right (FRAPPE_URL / "url") and that the site is up and reachable from this host (\`bench start\`, or supervisor/systemd in production)`
          : 'point FRAPPE_URL / "url" at the Frappe site itself (not at a proxy page or another application), and set FRAPPE_SITE / "name" to the site name (the folder under sites/): a bench answers a site name it does not host with an HTML 404',
    };
  }
  if (status === 401) {
    return {
      message: `${site.url} refused the API key/secret (401 ${e.excType ?? 'AuthenticationError'})`,
      fix:
        'generate a new key pair for the API user in Frappe (User → Settings → API Access → Generate Keys; the secret is shown once), ' +
        'then set it as FRAPPE_API_KEY / FRAPPE_API_SECRET (or the site\'s apiKey and secret file/variable in COC_CONFIG)',
    };
  }
  if (e.name === 'FrappeUnavailableError') {
    return {
      message: `no usable answer from ${site.url}: ${frappeReason(err)}`,
      fix: `check that the site URL is right (FRAPPE_URL / "url") and that the site is up and reachable from this host (\`bench start\`, or supervisor/systemd in production)`,
    };
  }
  if (status !== undefined && status >= 200 && status < 300) {
    return {
      message: `${site.url} answered, but not with Frappe's JSON: ${frappeReason(err)}`,
      fix: 'point the URL at the Frappe site itself, not at a proxy login page or another application',
    };
  }
  if (e.name === 'FrappeThrottledError') {
    return { message: `${site.url} is rate limiting us: ${frappeReason(err)}`, fix: 'wait and run the doctor again' };
  }
  return {
    message: `${site.url} answered ${status ?? ''} ${e.excType ?? ''}: ${frappeReason(err)}`.replace(/\s+/g, ' '),
    fix: 'read Frappe\'s message above; the site\'s error log (bench --site <site> show-error-log / Error Log list) has the details',
  };
}

/**
 * For the checks after connect: a refused key or a site that does not answer is the connect
 * check's finding; repeating its whole text under every check would bury the other results.
 */
export function blockedBy(err: unknown): string | null {
  const e = asClientError(err);
  if (statusOf(err) === 401) return 'not checked: the API key/secret was refused (see connect)';
  if (isNoFrappeAnswer(err)) return 'not checked: no Frappe site answers at the URL (see connect)';
  if (e.name === 'FrappeUnavailableError' || e.name === 'FrappeThrottledError') return `not checked: the site gave no usable answer (${frappeReason(err)})`;
  return null;
}
