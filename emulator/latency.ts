/**
 * The latency profile (a test control): every REST call of a site answered `meanMs ± jitterMs`
 * late, as a real bench is — tens of milliseconds per call against the emulator's one — so that
 * benchmarks price a design by its round trips. Delays are drawn uniformly from a seeded generator:
 * the same seed gives the same sequence of delays.
 */
export interface LatencyProfile {
  /** Site name; every site when absent. */
  site?: string;
  meanMs: number;
  /** Delays are uniform in [meanMs - jitterMs, meanMs + jitterMs]; 0 for a fixed delay. */
  jitterMs: number;
  seed: number;
}

export class Latency {
  /** By site name; '' for every site. A site's own profile wins over the every-site one. */
  private profiles = new Map<string, LatencyProfile & { state: number }>();

  set(profile: LatencyProfile): void {
    this.profiles.set(profile.site ?? '', { ...profile, state: profile.seed });
  }

  /** Remove one site's profile (or the every-site one with ''), or all when no site is given. */
  clear(site?: string): void {
    if (site === undefined) this.profiles.clear();
    else this.profiles.delete(site);
  }

  list(): LatencyProfile[] {
    return [...this.profiles.values()].map(({ state: _state, ...p }) => p);
  }

  /** How long to hold this site's next REST call, in ms (0 without a profile). */
  next(site: string): number {
    const p = this.profiles.get(site) ?? this.profiles.get('');
    if (!p) return 0;
    if (!p.jitterMs) return p.meanMs;
    // mulberry32, as the fault rates use.
    let t = (p.state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.max(0, p.meanMs - p.jitterMs + u * 2 * p.jitterMs);
  }
}
