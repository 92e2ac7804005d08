/**
 * The desk shell. Like frappe/www/app.py [v15], every `/app` and `/app/...` route answers the
 * same page to a logged-in System User — boot info in `frappe.boot`, the session's CSRF token in
 * `frappe.csrf_token` (issued here, as `get_csrf_token` does: from then on that cookie session
 * must send `X-Frappe-CSRF-Token` on POST/PUT/DELETE) — and the routing happens in the browser.
 * Guests are redirected to `/login`; website users are refused (app.py raises
 * PermissionError "You are not permitted to access this page." for non-System Users).
 *
 * The page loads the emulator's desk preview runtime (emulator/desk/runtime, bundled by
 * `node build.mjs` to dist/emulator/desk_runtime.js and served at
 * /assets/emulator/desk_runtime.js), which opens `/app/<doctype-slug>/<name>` as a form
 * (slug = DocType in lower case with spaces as dashes, `frappe.router.slug`) and runs the
 * site's enabled Client Scripts for it.
 *
 * Boot keys follow frappe/boot.py `get_bootinfo` [v15] where the runtime uses them: `sitename`,
 * `user` (`name`, `full_name`, `email`, `roles`, `can_read`, `user_type`), `sysdefaults`
 * (System Settings formats, currency from the first Company's default currency — ERPNext's
 * Global Defaults, which the emulator lacks), `time_zone`, `lang`, and `docs` with the enabled
 * Currency records as `:Currency` docs (`load_currency_docs`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Request, type Response } from 'express';
import type { Doc } from '../core/database.js';
import type { Site } from '../core/site.js';
import { hasPermission } from '../core/permissions.js';
import { parseCookies } from './request.js';

/** The project root (the folder with package.json), found from this module in source or in dist/. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

export const DESK_RUNTIME_PATH = join(projectRoot(), 'dist', 'emulator', 'desk_runtime.js');

function bootInfo(site: Site, user: string): Record<string, unknown> {
  const userDoc = site.db.get('User', user) ?? {};
  const settings = site.db.get('System Settings', 'System Settings') ?? {};
  const canRead = site.db
    .all('DocType')
    .filter((dt) => !dt.istable && hasPermission(site, String(dt.name), 'read', user))
    .map((dt) => String(dt.name))
    .sort();
  const company = site.db.all('Company')[0];
  const currencies = site.db
    .all('Currency')
    .filter((c) => c.enabled !== 0)
    .map((c: Doc) => ({
      doctype: ':Currency',
      name: c.name,
      fraction: c.fraction ?? null,
      fraction_units: c.fraction_units ?? null,
      number_format: c.number_format ?? null,
      smallest_currency_fraction_value: c.smallest_currency_fraction_value ?? null,
      symbol: c.symbol ?? null,
      symbol_on_right: c.symbol_on_right ?? 0,
    }));
  return {
    sitename: site.name,
    lang: 'en',
    user: {
      name: user,
      email: userDoc.email ?? user,
      full_name: userDoc.full_name ?? user,
      user_type: userDoc.user_type ?? 'System User',
      roles: site.rolesOf(user),
      can_read: canRead,
    },
    sysdefaults: {
      date_format: settings.date_format ?? 'dd-mm-yyyy',
      time_format: settings.time_format ?? 'HH:mm:ss',
      number_format: settings.number_format ?? '#,###.##',
      float_precision: settings.float_precision ?? '3',
      currency_precision: settings.currency_precision ?? '',
      currency: company?.default_currency ?? null,
      time_zone: site.timeZone(),
    },
    time_zone: { system: site.timeZone(), user: userDoc.time_zone || site.timeZone() },
    desk_settings: { form_sidebar: 0, timeline: 0 },
    developer_mode: 0,
    docs: currencies,
  };
}

/** JSON safe inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function deskRouter(): Router {
  const r = Router();
  r.get(['/app', /^\/app\/.*/], (req: Request, res: Response) => {
    const site = req.site!;
    const sid = parseCookies(req.headers.cookie).sid;
    const session = sid ? site.sessions.get(sid) : undefined;
    if (!session || session.user === 'Guest') {
      res.redirect(302, `/login?redirect-to=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    if (session.userType !== 'System User') {
      res.status(403).type('text/html').send('<!doctype html><title>Not Permitted</title><p>You are not permitted to access this page.</p>');
      return;
    }
    session.csrfToken ??= randomBytes(28).toString('hex').slice(0, 56);
    res.type('text/html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(site.name)}</title><link rel="icon" href="data:,"></head>
<body data-route="${escape(req.path)}">
<div id="body"></div>
<noscript>Frappe emulator desk for ${escape(site.name)} — signed in as ${escape(session.user)}.</noscript>
<script>window.frappe = {}; frappe.boot = ${scriptJson(bootInfo(site, session.user))}; frappe.csrf_token = ${JSON.stringify(session.csrfToken)};</script>
<script src="/assets/emulator/desk_runtime.js"></script>
</body></html>`);
  });
  r.get('/assets/emulator/desk_runtime.js', (_req: Request, res: Response) => {
    if (!existsSync(DESK_RUNTIME_PATH)) {
      res.status(500).type('text/plain').send('The emulator desk runtime is not built: run `node build.mjs` (it writes dist/emulator/desk_runtime.js).');
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.type('application/javascript').send(readFileSync(DESK_RUNTIME_PATH, 'utf8'));
  });
  /**
   * The sign-in page (frappe/www/login.html + login.js [v15], reduced to the password form): it posts
   * `usr`/`pwd` to /api/method/login and then goes to `redirect-to` (a path on this site) or /app.
   */
  r.get('/login', (req: Request, res: Response) => {
    const target = String(req.query['redirect-to'] ?? '/app');
    const safeTarget = target.startsWith('/') && !target.startsWith('//') ? target : '/app';
    res.type('text/html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Login</title><link rel="icon" href="data:,">
<style>body{font:14px system-ui,sans-serif;background:#f4f5f6;display:flex;justify-content:center;padding-top:10vh}
form{background:#fff;padding:24px 28px;border-radius:10px;box-shadow:0 1px 3px #0002;width:320px}
h3{margin:0 0 16px}input{display:block;width:100%;box-sizing:border-box;margin:0 0 12px;padding:8px;border:1px solid #d1d8dd;border-radius:6px}
button{width:100%;padding:8px;border:0;border-radius:6px;background:#171717;color:#fff}.error{color:#e24c4c;min-height:1.2em}</style></head>
<body><form class="form-signin form-login" id="login">
<h3>Login to ${escape(req.site!.name)}</h3>
<input type="text" id="login_email" name="usr" placeholder="Email" autocomplete="username" required autofocus>
<input type="password" id="login_password" name="pwd" placeholder="Password" autocomplete="current-password" required>
<p class="error" id="login_error"></p>
<button type="submit" class="btn-login">Login</button>
</form>
<script>
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = new URLSearchParams(new FormData(e.target));
  const res = await fetch('/api/method/login', { method: 'POST', body, headers: { Accept: 'application/json' } });
  const data = await res.json().catch(() => ({}));
  if (res.ok) location.href = ${scriptJson(safeTarget)};
  else document.getElementById('login_error').textContent = data.message || 'Invalid login credentials';
});
</script></body></html>`);
  });
  r.get('/', (req: Request, res: Response) => {
    res.type('text/html').send(`<!doctype html><title>${escape(req.site!.name)}</title><p>Frappe v15 emulator site <b>${escape(req.site!.name)}</b>. API at /api, desk at /app.</p>`);
  });
  return r;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
