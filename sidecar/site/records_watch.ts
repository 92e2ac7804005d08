/**
 * The records check (records_check.ts) for every site: once at start, then every `intervalMs`
 * (an hour), never holding up readiness; the last answer per site is kept for the Sites card,
 * and `onChecked(site)` tells the console's live link to push it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordsView } from '../../lib/api/views.js';
import { describeError } from '../../lib/errors.js';
import type { FrappeClient } from '../../lib/frappe/client.js';
import type { Logger } from '../../lib/log.js';
import { loadManifest } from '../../lib/manifest/load.js';
import { findPackageRoot } from '../../lib/site/package_root.js';
import { desiredDigests, loadDesired } from '../../lib/site/records.js';
import { checkRecords, notCheckedYet, type WantedRecords } from './records_check.js';

export const RECORDS_CHECK_INTERVAL_MS = 3_600_000;

/** This release's records, from the package the sidecar runs from (its built desk bundles included). */
export function wantedFromPackage(): WantedRecords {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (!root) throw new Error('cannot find the crm-order-companion package (doctypes/, hooks_manifest.json)');
  const desired = loadDesired(join(root, 'doctypes'), loadManifest(join(root, 'hooks_manifest.json')), join(root, 'dist', 'desk'));
  return { version: desired.version ?? null, digests: desiredDigests(desired) };
}

export interface RecordsWatch {
  get(site: string): RecordsView;
  /** Check every site now (and wait for it). */
  checkNow(): Promise<void>;
  stop(): void;
}

export function watchRecords(opts: {
  sites: { name: string; client: FrappeClient }[];
  wanted?: () => WantedRecords;
  intervalMs?: number;
  onChecked: (site: string) => void;
  logger: Logger;
}): RecordsWatch {
  const last = new Map<string, RecordsView>();
  let wanted: WantedRecords | Error | null = null;
  const load = (): WantedRecords | Error => {
    if (wanted) return wanted;
    try {
      wanted = (opts.wanted ?? wantedFromPackage)();
    } catch (err) {
      // Our own files (a desk bundle not built): say so on every card, and try again next time.
      return new Error(`cannot read this release's records: ${describeError(err)}`);
    }
    return wanted;
  };
  let stopped = false;
  const checkSite = async (name: string, client: FrappeClient): Promise<void> => {
    const w = load();
    const view = w instanceof Error ? { ...notCheckedYet(null), checkedAt: new Date().toISOString(), error: w.message } : await checkRecords(client, w);
    if (stopped) return;
    last.set(name, view);
    if (view.error) opts.logger.warn({ site: name, error: view.error }, `records check of ${name} failed`);
    opts.onChecked(name);
  };
  const checkNow = () => Promise.all(opts.sites.map((s) => checkSite(s.name, s.client).catch((err: unknown) => opts.logger.warn({ site: s.name, error: describeError(err) }, 'records check failed')))).then(() => undefined);
  void checkNow();
  const timer = setInterval(() => void checkNow(), opts.intervalMs ?? RECORDS_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    get: (site) => last.get(site) ?? notCheckedYet(wanted && !(wanted instanceof Error) ? wanted.version : null),
    checkNow,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
