/**
 * The ops console's own sessions: a random id in an HttpOnly, SameSite=Strict cookie, kept in
 * memory with an expiry. A session holds, per site, the Frappe user that site accepted — never a
 * password nor Frappe's sid. A restart signs everyone out, which is the point of keeping it in memory.
 */
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'coc_console';

/** The roles that may open the console: Frappe's own administrators, and ours (doctypes/roles/order_companion_operator.json). */
export const OPERATOR_ROLE = 'Order Companion Operator';
export const CONSOLE_ROLES = ['System Manager', OPERATOR_ROLE] as const;

export interface SiteGrant {
  user: string;
  roles: string[];
  signedInAtMs: number;
}

export interface ConsoleSession {
  id: string;
  /** Site name → the user who signed in there. */
  sites: Map<string, SiteGrant>;
  expiresAtMs: number;
}

/** Who is asking: a console session, or a script with COC_ADMIN_TOKEN (every site). */
export type ConsolePrincipal = { kind: 'session'; session: ConsoleSession } | { kind: 'token' };

export function mayOperate(roles: string[]): boolean {
  return roles.some((r) => (CONSOLE_ROLES as readonly string[]).includes(r));
}

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly ttlMs = 12 * 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string | undefined): ConsoleSession | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAtMs <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  /** Add a site's grant to the caller's session, or to a new one. */
  grant(existing: ConsoleSession | null, site: string, grant: Omit<SiteGrant, 'signedInAtMs'>): ConsoleSession {
    this.sweep();
    const session = existing ?? { id: randomBytes(32).toString('base64url'), sites: new Map(), expiresAtMs: this.now() + this.ttlMs };
    session.sites.set(site, { ...grant, signedInAtMs: this.now() });
    this.sessions.set(session.id, session);
    return session;
  }

  /** Sign out of one site, or of all: the session goes when no site is left. */
  revoke(session: ConsoleSession, site?: string): void {
    if (site) session.sites.delete(site);
    if (!site || session.sites.size === 0) this.sessions.delete(session.id);
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAtMs <= t) this.sessions.delete(id);
  }
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(session: ConsoleSession, secure: boolean, nowMs = Date.now()): string {
  const maxAge = Math.max(0, Math.floor((session.expiresAtMs - nowMs) / 1000));
  return `${SESSION_COOKIE}=${session.id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`;
}
