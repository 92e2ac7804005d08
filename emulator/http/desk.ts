/**
 * The desk shell, as far as the foundation needs it: `/app` boots a page for a logged-in System
 * User and, as frappe/www/app.py does through `get_csrf_token`, gives the session a CSRF token —
 * from then on that cookie session must send `X-Frappe-CSRF-Token` on POST/PUT/DELETE.
 * Guests are redirected to `/login`. The desk preview with the product's bundles builds on this.
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { parseCookies } from './request.js';

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
    session.csrfToken ??= randomBytes(28).toString('hex').slice(0, 56);
    res.type('text/html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(site.name)}</title></head>
<body data-route="${escape(req.path)}">
<script>window.frappe = { boot: { sitename: ${JSON.stringify(site.name)}, user: ${JSON.stringify(session.user)} }, csrf_token: ${JSON.stringify(session.csrfToken)} };</script>
<p>Frappe emulator desk for ${escape(site.name)} — signed in as ${escape(session.user)}.</p>
</body></html>`);
  });
  r.get('/', (req: Request, res: Response) => {
    res.type('text/html').send(`<!doctype html><title>${escape(req.site!.name)}</title><p>Frappe v15 emulator site <b>${escape(req.site!.name)}</b>. API at /api, desk at /app.</p>`);
  });
  return r;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
