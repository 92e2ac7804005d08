/**
 * The web half of the emulated bench: site resolution, the `/api` routes of
 * frappe/frappe:frappe/api/v1.py + frappe/handler.py [v15], request transactions, and the
 * test controls under `/__emulator` (outside Frappe's URL space; the product never calls them).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Doc } from '../core/database.js';
import { deleteDoc, findName, getDoc, insertDoc, requireMeta, saveDoc, slug, type Ctx } from '../core/document.js';
import { FrappeError, doesNotExist, noPermission, permissionCheckLog } from '../core/errors.js';
import { applyFieldlevelReadPermissions, hasPermission } from '../core/permissions.js';
import { getList } from '../core/query.js';
import type { Site } from '../core/site.js';
import { METHODS, findChild } from './methods.js';
import { authenticate, makeFormDict, type Auth, type FormDict } from './request.js';
import { sendError, sendJson, withoutNulls } from './respond.js';
import type { EmulatorState } from '../state.js';
import { controlsRouter } from './controls.js';
import { deskRouter } from './desk.js';
import { ResponseBody } from './desk_methods.js';
import { REALTIME_CALLBACK_HEADER } from '../realtime/callback_header.js';
import { pyJsonLoads } from '../core/py_json.js';

/** gunicorn's `limit_request_line` default (bytes of `METHOD URL HTTP/1.1`). */
export const GUNICORN_LIMIT_REQUEST_LINE = 4094;
const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
/** Frappe's default `max_file_size`-independent request limit is nginx's; 25 MB is a sane stand-in. */
const BODY_LIMIT = '25mb';

declare module 'express-serve-static-core' {
  interface Request {
    site?: Site;
    rawBody?: Buffer;
  }
}

/** `frappe.utils.get_site_name(host)`: the Host header without its port. */
export function hostname(value: string | undefined): string {
  if (!value) return '';
  let v = value.trim();
  v = v.replace(/^[a-z]+:\/\//i, '');
  v = v.split('/')[0];
  if (v.startsWith('[')) return v.slice(0, v.indexOf(']') + 1);
  return v.split(':')[0];
}

export function createHttpApp(state: EmulatorState): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // The web server stamps every answer with an HTTP `Date` (RFC 9110 §6.6.1; gunicorn/nginx do for
  // Frappe). Ours comes from the emulator's moveable clock, not the host's: a client that reads the
  // site's "now" from `Date` (the sidecar's SLA sweep does) then follows the clock tests move.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Date', new Date(Math.floor(state.clock.peekEpochMicros() / 1000)).toUTCString());
    next();
  });

  // gunicorn, which serves Frappe (bench's supervisor/systemd config and frappe_docker start it
  // without `--limit-request-line`), refuses a request line longer than its default 4094 bytes
  // before Frappe sees the request: 400 with an HTML page, "Request Line is too large (N &gt;
  // 4094)" (gunicorn's documented `limit_request_line` setting). A GET list call with a long `in`
  // filter meets it on a real site.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const line = Buffer.byteLength(`${req.method} ${req.originalUrl} HTTP/${req.httpVersion}`);
    if (line <= GUNICORN_LIMIT_REQUEST_LINE || req.path.startsWith('/__emulator')) return next();
    res.setHeader('Connection', 'close');
    res
      .status(400)
      .type('text/html')
      .send(`<html><head><title>Bad Request</title></head><body><h1><p>Bad Request</p></h1>Request Line is too large (${line} &gt; ${GUNICORN_LIMIT_REQUEST_LINE})</body></html>`);
  });

  app.use('/__emulator', express.json({ limit: BODY_LIMIT }), controlsRouter(state));

  // Everything else belongs to a site.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const name = state.options.serveSite ?? (req.headers['x-frappe-site-name'] as string | undefined)?.trim() ?? hostname(req.headers.host);
    const site = state.sites.get(name);
    if (!site) {
      // init_request: no such site folder → werkzeug NotFound (an HTML 404 page, not JSON).
      res.status(404).type('text/html').send(`<!doctype html><title>404 Not Found</title><h1>Not Found</h1><p>${escapeHtml(name)} does not exist</p>`);
      return;
    }
    req.site = site;
    next();
  });

  app.use(express.raw({ type: () => true, limit: BODY_LIMIT }));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    next();
  });

  // The latency profile (test control): REST calls answered late, as a real site's are. Desk pages
  // and the realtime server's permission callbacks are not REST calls the product makes, so they
  // are not held.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (!/^\/api(\/|$)/.test(req.path) || req.headers[REALTIME_CALLBACK_HEADER]) return next();
    const ms = state.latency.next(req.site!.name);
    if (ms > 0) setTimeout(next, ms);
    else next();
  });

  // Faults injected by tests: errors, hung requests, and counted requests.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const site = req.site!;
    site.countRequest(`${req.method} ${decodeURIComponent(req.path)}`);
    const fault = state.faults.pick(site.name, req.method, decodeURIComponent(req.path));
    if (!fault) return next();
    if (fault.mode === 'timeout') {
      // Hold the request open; the client's timeout decides. Closed with the server.
      state.hungResponses.add(res);
      res.on('close', () => state.hungResponses.delete(res));
      return;
    }
    if (fault.mode === 'delay') {
      setTimeout(next, fault.delayMs ?? 0);
      return;
    }
    if (fault.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (fault.retryAfterSec !== undefined) headers['Retry-After'] = String(fault.retryAfterSec);
    res.set(headers);
    if (fault.status === 429) {
      sendError(res, new FrappeError('TooManyRequestsError', {}), { traceback: false });
    } else if (fault.status >= 500) {
      // What a proxy in front of a dead worker answers: HTML, not Frappe's JSON.
      const text = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Time-out' }[fault.status] ?? 'Error';
      res.status(fault.status).type('text/html').send(`<html><head><title>${fault.status} ${text}</title></head><body><center><h1>${fault.status} ${text}</h1></center><hr><center>nginx</center></body></html>`);
    } else {
      sendError(res, new FrappeError('ValidationError', { httpStatus: fault.status }), { traceback: false });
    }
  });

  app.all(/^\/api(?:\/v1)?\/method\/(.+?)\/?$/, (req, res) => handle(state, req, res, (call) => runMethod(req, call)));
  app.all(/^\/api(?:\/v1)?\/resource\/([^/]+)\/?$/, (req, res) => handle(state, req, res, (call) => resourceCollection(req, call)));
  app.all(/^\/api(?:\/v1)?\/resource\/([^/]+)\/(.+?)\/?$/, (req, res) => handle(state, req, res, (call) => resourceItem(req, call)));
  app.all(/^\/api(\/.*)?$/, (req, res) =>
    handle(state, req, res, () => {
      throw new FrappeError('DoesNotExistError', { excText: '' });
    }),
  );

  app.use(deskRouter());
  return app;
}

interface Call {
  ctx: Ctx;
  form: FormDict;
  auth: Auth;
}

interface Outcome {
  status: number;
  body: Record<string, unknown>;
  cookies?: string[];
}

function traceback(site: Site): boolean {
  const ss = site.db.get('System Settings', 'System Settings');
  return ss?.allow_error_traceback === undefined || ss?.allow_error_traceback === null ? true : Boolean(ss.allow_error_traceback);
}

/**
 * One request = one transaction: committed for POST/PUT/DELETE/PATCH that succeed, rolled back
 * otherwise — GETs included — as frappe/app.py `application` does.
 */
function handle(state: EmulatorState, req: Request, res: Response, fn: (call: Call) => Outcome): void {
  const site = req.site!;
  const ctx: Ctx = { site, user: 'Guest', messages: [] };
  site.db.begin();
  try {
    const form = makeFormDict(req, req.rawBody ?? Buffer.alloc(0));
    const auth = authenticate(site, req, form, state.options.ignoreCsrf ?? false);
    ctx.user = auth.user;
    const out = fn({ ctx, form, auth });
    if (UNSAFE.has(req.method)) site.db.commit();
    else site.db.rollback();
    if (out.cookies) res.setHeader('Set-Cookie', out.cookies);
    sendJson(res, out.status, out.body, ctx.messages);
  } catch (err) {
    site.db.rollback();
    if (!(err instanceof FrappeError)) state.log(`unhandled error in ${req.method} ${req.path}: ${(err as Error).stack ?? err}`);
    const extra: Record<string, unknown> = {};
    if (err instanceof FrappeError && err.excType === 'AuthenticationError' && (err as FrappeError & { loginMessage?: string }).loginMessage) {
      extra.message = (err as FrappeError & { loginMessage?: string }).loginMessage;
    }
    sendError(res, err, { traceback: traceback(site), messages: ctx.messages, extra });
  }
}

function param(req: Request, i: number): string {
  return decodeURIComponent((req.params as Record<string, string>)[i] ?? '');
}

// ---- /api/method -------------------------------------------------------------------

function runMethod(req: Request, call: Call): Outcome {
  const name = param(req, 0);
  if (name === 'login') return login(call);
  if (name === 'logout') return logout(call);
  const def = METHODS[name];
  if (!def) {
    // handler.get_attr: an unknown dotted path is reported through frappe.throw (ValidationError),
    // with Python's import error: a module that exists but lacks the function says so (recording
    // method-unknown).
    const mod = name.split('.').slice(0, -1).join('.') || name;
    const attr = name.split('.').pop();
    const moduleExists = Object.keys(METHODS).some((m) => m.startsWith(`${mod}.`));
    const why = moduleExists ? `module '${mod}' has no attribute '${attr}'` : `No module named '${mod}'`;
    const message = `Failed to get method for command ${name} with ${why}`;
    throw new FrappeError('ValidationError', { message, title: 'Message', excText: message });
  }
  if (call.ctx.user === 'Guest' && !def.allowGuest) {
    // handler.is_whitelisted [v15].
    const message = `<details><summary>You are not permitted to access this resource.</summary>Function <strong>${name}</strong> is not whitelisted.</details>`;
    throw new FrappeError('PermissionError', { message, title: 'Method Not Allowed', excText: message });
  }
  const allowed = def.methods ?? ['GET', 'POST', 'PUT', 'DELETE'];
  if (!allowed.includes(req.method)) {
    throw new FrappeError('PermissionError', { message: 'Not permitted', title: 'Message', excText: 'Not permitted' });
  }
  const result = def.run({ ctx: call.ctx, form: call.form, auth: call.auth, httpMethod: req.method });
  // A method that fills `frappe.response` itself (frappe.desk.form.load.getdoc & co.).
  if (result instanceof ResponseBody) return { status: 200, body: result.body };
  // `frappe.response["message"]` is omitted when the method returns None.
  return { status: 200, body: result === undefined ? {} : { message: result } };
}

/** `LoginManager.login` (frappe/auth.py [v15]). */
function login(call: Call): Outcome {
  const site = call.ctx.site;
  const usr = String(call.form.usr ?? '');
  const pwd = String(call.form.pwd ?? '');
  if (!usr || !pwd) {
    const message = 'Incomplete login details';
    throw Object.assign(new FrappeError('AuthenticationError', { message, excText: message }), { loginMessage: message });
  }
  const user = site.db.all('User').find((u) => String(u.name).toLowerCase() === usr.toLowerCase() || String(u.username ?? '').toLowerCase() === usr.toLowerCase());
  const ok = user && user.enabled !== 0 && site.getPassword('User', String(user.name), 'password') === pwd;
  if (!ok) {
    throw Object.assign(new FrappeError('AuthenticationError', {}), { loginMessage: 'Invalid login credentials' });
  }
  const session = site.newSession(String(user.name));
  call.ctx.user = session.user;
  const systemUser = session.userType === 'System User';
  const cookieOpts = 'Path=/; SameSite=Lax';
  return {
    status: 200,
    body: {
      message: systemUser ? 'Logged In' : 'No App',
      // get_default_path(): a site with more than one app (CRM, Helpdesk) sends desk users to the
      // apps screen (recording login-ok).
      home_page: systemUser ? '/apps' : '/me',
      full_name: user.full_name ?? user.first_name ?? user.name,
    },
    cookies: [
      `sid=${session.sid}; Expires=${new Date(Date.now() + 3 * 86400_000).toUTCString()}; Max-Age=259200; HttpOnly; ${cookieOpts}`,
      `system_user=${systemUser ? 'yes' : 'no'}; ${cookieOpts}`,
      `full_name=${encodeURIComponent(String(user.full_name ?? user.name))}; ${cookieOpts}`,
      `user_id=${encodeURIComponent(String(user.name))}; ${cookieOpts}`,
      `user_image=; ${cookieOpts}`,
    ],
  };
}

function logout(call: Call): Outcome {
  if (call.auth.session) call.ctx.site.sessions.delete(call.auth.session.sid);
  return { status: 200, body: {}, cookies: ['sid=Guest; Path=/; SameSite=Lax', 'system_user=no; Path=/', 'full_name=Guest; Path=/', 'user_id=Guest; Path=/'] };
}

// ---- /api/resource --------------------------------------------------------------------

/** `get_request_form_data`: `form_dict.data` (JSON text or value) if present, else the form dict itself. */
function requestData(call: Call): Doc {
  const data = call.form.data;
  if (data === undefined) return { ...call.form };
  if (typeof data === 'string') {
    return pyJsonLoads(data) as Doc;
  }
  return data as Doc;
}

function resourceCollection(req: Request, call: Call): Outcome {
  const doctype = param(req, 0);
  const { ctx, form } = call;
  if (req.method === 'GET') {
    // api/v1.py `document_list`: `fields` is json.loads'd; limit → limit_page_length; sbool(as_dict).
    let fields = form.fields;
    if (typeof fields === 'string' && fields !== '') {
      fields = pyJsonLoads(fields);
    }
    requireMeta(ctx.site, doctype); // an unknown DocType is a 404 before anything else
    const data = getList(ctx.site, ctx.user, {
      doctype,
      fields,
      filters: form.filters,
      or_filters: form.or_filters,
      order_by: form.order_by as string,
      group_by: form.group_by as string,
      limit_start: form.limit_start as number,
      limit_page_length: (form.limit || form.limit_page_length || 20) as number,
      as_dict: sbool(form.as_dict, true),
      parent: form.parent as string,
    });
    return { status: 200, body: { data } };
  }
  if (req.method === 'POST') {
    const data = requestData(call);
    delete data.doctype;
    if (!ctx.site.hasDocType(doctype)) {
      // frappe.new_doc → get_controller: an unknown DocType's module defaults to Core and the
      // import fails — a 500, not a 404 (recording insert-unknown-doctype).
      const module = `frappe.core.doctype.${doctype.replace(/[ -]/g, '_').toLowerCase()}`;
      throw new FrappeError('ImportError', { httpStatus: 500, exceptionLine: `Error: No module named '${module}'` });
    }
    const doc = insertDoc(ctx, { ...data, doctype });
    return { status: 200, body: { data: withoutNulls(doc) } };
  }
  throw new FrappeError('DoesNotExistError', { excText: '' });
}

function sbool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes'].includes(s)) return true;
  if (['false', '0', 'no', ''].includes(s)) return false;
  return Boolean(v);
}

function resourceItem(req: Request, call: Call): Outcome {
  const doctype = param(req, 0);
  const name = param(req, 1);
  const { ctx } = call;
  const meta = requireMeta(ctx.site, doctype);
  if (req.method === 'GET') {
    if (call.form.run_method) return runDocMethod(call, doctype, name, 'read');
    const doc = meta.istable ? childDoc(ctx, doctype, name) : getDoc(ctx, doctype, name, null);
    if (!hasPermission(ctx.site, doctype, 'read', ctx.user, doc)) {
      // api/v1.py `read_doc` (15.55.1): `if not doc.has_permission("read"): raise frappe.PermissionError`
      // — the check log only, no error_message (recordings restricted-role-get-403, restricted-wo-get-403).
      const roleGrants = hasPermission(ctx.site, doctype, 'read', ctx.user);
      throw new FrappeError('PermissionError', { extraMessages: [permissionCheckLog(ctx.user, doctype, { roleGrants, document: { name: doc.name } })] });
    }
    // frappe/api/v1.py `read_doc`: `doc.apply_fieldlevel_read_permissions()` (recording restricted-user-get-self).
    return { status: 200, body: { data: withoutNulls(meta.istable ? doc : applyFieldlevelReadPermissions(ctx.site, doc, ctx.user)) } };
  }
  if (req.method === 'PUT') {
    const data = requestData(call);
    delete data.flags;
    if (meta.istable) {
      const found = findChild(ctx, doctype, name);
      if (!found) throw doesNotExist(doctype, name);
      const rows = found.parent[found.field] as Doc[];
      const row = rows.find((r) => r.name === name)!;
      for (const [k, v] of Object.entries(data)) if (!['name', 'doctype', 'parent', 'parenttype', 'parentfield'].includes(k)) row[k] = v;
      const saved = saveDoc(ctx, found.parent, null);
      const child = ((saved[found.field] as Doc[]) ?? []).find((r) => r.name === name) ?? row;
      return { status: 200, body: { data: withoutNulls(child) } };
    }
    // update_doc: load from the DB, apply the body, save. `modified` in the body is checked.
    const doc = getDoc(ctx, doctype, name, null);
    for (const [k, v] of Object.entries(data)) {
      if (k === 'name' || k === 'doctype') continue;
      doc[k] = v;
    }
    const saved = saveDoc(ctx, doc, 'modified' in data ? String(data.modified) : null);
    return { status: 200, body: { data: withoutNulls(saved) } };
  }
  if (req.method === 'DELETE') {
    // delete_doc: `if not frappe.db.exists(doctype, name): raise frappe.DoesNotExistError` — bare,
    // nothing msgprinted (recording delete-missing-404).
    if (!findName(ctx.site, doctype, name)) throw new FrappeError('DoesNotExistError', {});
    deleteDoc(ctx, doctype, name);
    return { status: 202, body: { data: 'ok' } };
  }
  if (req.method === 'POST') {
    if (call.form.run_method) return runDocMethod(call, doctype, name, 'write');
    throw new FrappeError('DoesNotExistError', { excText: '' });
  }
  throw new FrappeError('DoesNotExistError', { excText: '' });
}

function childDoc(ctx: Ctx, doctype: string, name: string): Doc {
  const found = findChild(ctx, doctype, name);
  if (!found) throw doesNotExist(doctype, name);
  return (found.parent[found.field] as Doc[]).find((r) => r.name === name)!;
}

/** `execute_doc_method`: only `@frappe.whitelist()`ed controller methods; the emulator ships none. */
function runDocMethod(call: Call, doctype: string, name: string, ptype: 'read' | 'write'): Outcome {
  const doc = getDoc(call.ctx, doctype, name, null);
  if (!hasPermission(call.ctx.site, doctype, ptype, call.ctx.user, doc)) throw noPermission(doctype, ptype);
  const method = String(call.form.run_method);
  const message = `<details><summary>You are not permitted to access this resource.</summary>Function <strong>${slug(doctype)}.${method}</strong> is not whitelisted.</details>`;
  throw new FrappeError('PermissionError', { message, title: 'Method Not Allowed', excText: message });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
