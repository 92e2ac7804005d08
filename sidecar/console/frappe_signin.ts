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
    return await whoIsSignedIn(app);
  } finally {
    await auth.logout().catch(() => undefined);
  }
}

/** The signed-in user of `app`'s session and their roles, as the console needs them. */
async function whoIsSignedIn(app: FrappeApp): Promise<SignInResult> {
  try {
    const user = String(await app.auth().getLoggedInUser());
    const roles = await app.call().get<{ message: string[] }>('frappe.core.doctype.user.user.get_roles', { uid: user });
    return { ok: true, user, roles: Array.isArray(roles?.message) ? roles.message.map(String) : [] };
  } catch (err) {
    return sdkFailure(err, 'the site did not say who signed in');
  }
}

export interface SessionCheckRequest {
  url: string;
  site: string;
  /** The `sid` cookie the browser sent with its request to the console. */
  sid: string;
  /** @defaultValue 10_000 */
  timeoutMs?: number;
}

/**
 * Who a Frappe session belongs to, for a console served under the site's own host name (a reverse
 * proxy path such as https://erp.example.com/companion/console), where the browser sends the site's
 * `sid` cookie along: the same calls as after a password sign-in, with that cookie, and no logout —
 * the session is the person's own, still in use in their desk.
 */
export async function checkFrappeSession(req: SessionCheckRequest): Promise<SignInResult> {
  const app = new FrappeApp(req.url, undefined, req.site, { 'X-Frappe-Site-Name': req.site });
  app.axios.defaults.timeout = req.timeoutMs ?? 10_000;
  app.axios.interceptors.request.use((config) => {
    config.headers.set('Cookie', `sid=${req.sid}`);
    return config;
  });
  const result = await whoIsSignedIn(app);
  // A sid Frappe no longer knows is a Guest request, and Guest may not call get_logged_user: 403
  // PermissionError (recording auth-guest-logged-user).
  if (!result.ok && (result.status === 401 || result.status === 403)) return { ok: false, status: 401, message: SESSION_ENDED };
  return result;
}

const SESSION_ENDED = 'your Frappe session has ended: sign in to the site again, or sign in here with your password';
