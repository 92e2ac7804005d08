/**
 * Request parsing and authentication as frappe/app.py `init_request`/`make_form_dict` and
 * frappe/auth.py `HTTPRequest`, `validate_auth`, `validate_csrf_token` [v15] do them.
 */
import type { Request } from 'express';
import { FrappeError } from '../core/errors.js';
import type { Session, Site } from '../core/site.js';
import { pyJsonLoads } from '../core/py_json.js';

export type FormDict = Record<string, unknown>;

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k) continue;
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[k] = part.slice(i + 1).trim();
    }
  }
  return out;
}

/**
 * `make_form_dict`: a JSON body *is* the form dict (query args ignored; a top-level array
 * becomes `data`); otherwise query args ∪ urlencoded form fields. `_` is dropped.
 */
export function makeFormDict(req: Request, raw: Buffer): FormDict {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let form: FormDict = {};
  // `request.is_json`: application/json or any application/*+json mimetype.
  const isJson = type === 'application/json' || /^application\/[^;]*\+json$/.test(type);
  if (isJson && raw.length) {
    // v15 `make_form_dict` calls json.loads unguarded: a malformed body is a 500 JSONDecodeError.
    const parsed: unknown = pyJsonLoads(raw.toString('utf8'));
    if (Array.isArray(parsed)) form = { data: parsed };
    else if (parsed && typeof parsed === 'object') form = parsed as FormDict;
    else throw new FrappeError('ValidationError', { message: 'Invalid request arguments', excText: 'Invalid request arguments' });
  } else {
    const url = new URL(req.originalUrl, 'http://x');
    for (const [k, v] of url.searchParams) form[k] = v;
    if (type === 'application/x-www-form-urlencoded' && raw.length) {
      for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) form[k] = v;
    }
  }
  delete form._;
  return form;
}

export interface Auth {
  user: string;
  session: Session | null;
  /** How the user was established; `token` sessions carry no `user_type` in v15 (frappe/__init__.py set_user empties session.data, which frappe/realtime.py get_user_info reads user_type from). */
  via: 'guest' | 'session' | 'token';
}

const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * Session from the `sid` cookie (an unknown sid resumes as Guest), then the CSRF check for
 * cookie sessions that hold a token, then `Authorization` (token/Basic), which overrides the user.
 */
export function authenticate(site: Site, req: Request, form: FormDict, ignoreCsrf: boolean): Auth {
  const cookies = parseCookies(req.headers.cookie);
  let auth: Auth = { user: 'Guest', session: null, via: 'guest' };
  const sid = cookies.sid ?? (typeof form.sid === 'string' ? form.sid : undefined);
  if (sid && sid !== 'Guest') {
    const session = site.sessions.get(sid);
    if (session) auth = { user: session.user, session, via: 'session' };
  }
  if (auth.session?.csrfToken && UNSAFE.has(req.method) && !ignoreCsrf) {
    const sent = req.headers['x-frappe-csrf-token'] ?? form.csrf_token;
    if (sent !== auth.session.csrfToken) {
      throw new FrappeError('CSRFTokenError', { message: 'Invalid Request', title: 'Message', excText: 'Invalid Request' });
    }
  }
  const header = String(req.headers.authorization ?? '');
  const parts = header.split(' ');
  if (header && parts.length === 2) {
    const [scheme, token] = parts;
    let key: string | undefined;
    let secret: string | undefined;
    if (scheme.toLowerCase() === 'basic') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token) || token.length % 4 !== 0) {
        const message = 'Failed to decode token, please provide a valid base64-encoded token.';
        throw new FrappeError('InvalidAuthorizationToken', { message, title: 'Message', excText: message });
      }
      const decoded = Buffer.from(token, 'base64').toString('utf8').split(':');
      if (decoded.length === 2) [key, secret] = decoded;
    } else if (scheme.toLowerCase() === 'token') {
      const pair = token.split(':');
      if (pair.length === 2) [key, secret] = pair;
    }
    if (key !== undefined && secret !== undefined) {
      const user = site.db.all('User').find((u) => u.api_key === key);
      // validate_api_key_secret [v15]: a valid key only sets the user when no session user is there.
      if (user && site.getPassword('User', String(user.name), 'api_secret') === secret && user.enabled !== 0 && auth.user === 'Guest') {
        auth = { user: String(user.name), session: null, via: 'token' };
      }
    }
    // validate_auth: a two-part Authorization header that leaves the user as Guest is a 401.
    if (auth.user === 'Guest') throw new FrappeError('AuthenticationError', { httpStatus: 401 });
  }
  return auth;
}
