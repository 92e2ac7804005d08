/** The ops console's session store: random ids, expiry, one session holding several sites, sign-out. */
import { describe, expect, it } from 'vitest';
import { SessionStore, cookieValue, mayOperate, sessionCookie } from '../../sidecar/console/sessions.js';

describe('console sessions', () => {
  it('a session lapses at its expiry and is then unknown', () => {
    let now = 1_000_000;
    const store = new SessionStore(60_000, () => now);
    const s = store.grant(null, 'a.localhost', { user: 'ann@example.com', roles: ['System Manager'] });
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(s.id)).toBe(s);
    now += 59_999;
    expect(store.get(s.id)).toBe(s);
    now += 1;
    expect(store.get(s.id)).toBeNull();
    expect(store.get(undefined)).toBeNull();
  });

  it('signing in to another site adds to the same session; signing out of the last site ends it', () => {
    const store = new SessionStore();
    const s = store.grant(null, 'a.localhost', { user: 'ann@example.com', roles: ['System Manager'] });
    expect(store.grant(s, 'b.localhost', { user: 'bob@example.com', roles: ['Order Companion Operator'] }).id).toBe(s.id);
    expect([...s.sites.keys()]).toEqual(['a.localhost', 'b.localhost']);
    store.revoke(s, 'a.localhost');
    expect(store.get(s.id)).toBe(s);
    store.revoke(s, 'b.localhost');
    expect(store.get(s.id)).toBeNull();
  });

  it('ids differ, the cookie is HttpOnly and SameSite=Strict, and only the two roles may operate', () => {
    const store = new SessionStore();
    const ids = new Set(Array.from({ length: 50 }, () => store.grant(null, 'a', { user: 'u', roles: [] }).id));
    expect(ids.size).toBe(50);
    const s = store.grant(null, 'a', { user: 'u', roles: [] });
    const cookie = sessionCookie(s, true, s.expiresAtMs - 3_600_000);
    expect(cookie).toBe(`coc_console=${s.id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=3600; Secure`);
    expect(cookieValue(`other=1; coc_console=${s.id}; x=y`, 'coc_console')).toBe(s.id);
    expect(mayOperate(['System Manager'])).toBe(true);
    expect(mayOperate(['Order Companion Operator', 'Sales User'])).toBe(true);
    expect(mayOperate(['Sales Manager', 'Desk User', 'All'])).toBe(false);
  });
});
