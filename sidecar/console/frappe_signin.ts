/**
 * Checking a person's Frappe credentials against one site with frappe-js-sdk, as the ops console's
 * sign-in does: `auth().loginWithUsernamePassword` (POST /api/method/login), then
 * `auth().getLoggedInUser` (frappe.auth.get_logged_user), then the user's roles through
 * `frappe.core.doctype.user.user.get_roles`, which any logged-in user may call for themself
 * (frappe/core/doctype/user/user.py; the User record's roles are permlevel 1, hidden from a
 * non-manager — scripts/site/install.ts `rolesOf` reads them the same way), then
 * `auth().logout()`, so no Frappe session outlives the check.
 *
 * frappe-js-sdk is written for the browser: its axios instance sets `withCredentials` and leaves the
 * `sid` cookie to the browser. Node keeps no cookie jar, so the login's `Set-Cookie: sid=…` is
 * carried to the next calls by an interceptor on the app's own axios instance. The sid lives only in
 * this function's closure; it is never logged nor returned.
 *
 * A real login it is: on a site with `deny_multiple_sessions`, Frappe ends the user's other sessions
 * when this one starts (frappe/auth.py `LoginManager.clear_active_sessions`). A user with two-factor
 * authentication gets a verification step instead of a session (frappe/twofactor.py), which the
 * console does not offer yet.
 */
import { FrappeApp } from 'frappe-js-sdk';

export interface SignInRequest {
  /** The site's base URL and name (`X-Frappe-Site-Name`, as lib/frappe/client.ts sends it). */
  url: string;
  site: string;
  usr: string;
  pwd: string;
  /** @defaultValue 10_000 */
  timeoutMs?: number;
}

export type SignInResult =
  | { ok: true; user: string; roles: string[] }
  /** Frappe refused the credentials (or could not be reached): `message` is Frappe's own text. */
  | { ok: false; status: number; message: string };

/** What frappe-js-sdk rejects with (utils/error.ts `getFrappeError`): Frappe's body, plus the HTTP status. */
interface FrappeSdkError {
  httpStatus?: number;
  message?: string;
  exception?: string;
}

function sdkFailure(err: unknown, fallback: string): { ok: false; status: number; message: string } {
  const e = (err ?? {}) as FrappeSdkError;
  const status = typeof e.httpStatus === 'number' ? e.httpStatus : 0;
  const message = typeof e.message === 'string' && e.message ? e.message : fallback;
  return { ok: false, status, message };
}

export async function signInToFrappe(req: SignInRequest): Promise<SignInResult> {
  const app = new FrappeApp(req.url, undefined, req.site, { 'X-Frappe-Site-Name': req.site });
  app.axios.defaults.timeout = req.timeoutMs ?? 10_000;
  let sid: string | null = null;
  app.axios.interceptors.request.use((config) => {
    if (sid) config.headers.set('Cookie', `sid=${sid}`);
    return config;
  });
  app.axios.interceptors.response.use((res) => {
    const cookies = res.headers['set-cookie'];
    const found = (Array.isArray(cookies) ? cookies : []).map((c) => /^sid=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
    if (found !== undefined && found !== 'Guest' && found !== '') sid = found;
    return res;
  });

  const auth = app.auth();
  let answer: { verification?: unknown; tmp_id?: unknown } | undefined;
  try {
    answer = (await auth.loginWithUsernamePassword({ username: req.usr, password: req.pwd })) as typeof answer;
  } catch (err) {
    return sdkFailure(err, 'Frappe refused the sign-in');
  }
  if (!sid && (answer?.verification || answer?.tmp_id)) {
    return { ok: false, status: 501, message: 'this user signs in with two-factor authentication, which the console does not support yet' };
  }
  if (!sid) return { ok: false, status: 502, message: 'the site signed the user in but set no session cookie' };
  try {
    const user = String(await auth.getLoggedInUser());
    const roles = await app.call().get<{ message: string[] }>('frappe.core.doctype.user.user.get_roles', { uid: user });
    return { ok: true, user, roles: Array.isArray(roles?.message) ? roles.message.map(String) : [] };
  } catch (err) {
    return sdkFailure(err, 'the site did not say who signed in');
  } finally {
    await auth.logout().catch(() => undefined);
  }
}
