/**
 * Whether a site holds this release's records (doctypes/, hooks_manifest.json's desk bundles):
 * the cheap part of `site doctor`'s and `site plan`'s work, for the console's Sites card. One REST
 * call per check: the install state (Order Companion Settings), where the last complete install
 * left each record's digest (lib/site/records.ts `InstalledProduct`); a record whose digest differs
 * from this release's file, or that the install state does not list, is out of date. A record
 * changed or deleted by hand since the install is not seen here: `site plan` reads every record.
 */
import type { RecordsView } from '../../lib/api/views.js';
import { describeError } from '../../lib/errors.js';
import { FrappeApiError } from '../../lib/frappe/errors.js';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { redactSecrets } from '../../lib/log.js';
import { STATE_DOCTYPE, type InstalledProduct } from '../../lib/site/records.js';

export type { RecordsView };

/** What this release installs: its version and each record's digest by key ("DocType/name"). */
export interface WantedRecords {
  version: string | null;
  digests: Record<string, string>;
}

export function notCheckedYet(version: string | null): RecordsView {
  return { state: 'unknown', outOfDate: 0, total: 0, productVersion: version, installedVersion: null, installedAt: null, checkedAt: null, error: null };
}

function isMissing(err: unknown): boolean {
  return err instanceof FrappeApiError && (err.status === 404 || err.excType === 'DoesNotExistError');
}

export async function checkRecords(client: FrappeClient, wanted: WantedRecords, now: () => Date = () => new Date()): Promise<RecordsView> {
  const keys = Object.keys(wanted.digests);
  const base = { total: keys.length, productVersion: wanted.version, checkedAt: null as string | null, error: null as string | null };
  let doc: { install_state?: unknown };
  try {
    doc = await client.getDoc<{ install_state?: unknown }>(STATE_DOCTYPE, STATE_DOCTYPE);
  } catch (err) {
    const checkedAt = now().toISOString();
    // No install state DocType: nothing of ours was ever installed (or it was uninstalled).
    if (isMissing(err)) return { ...base, state: 'not_installed', outOfDate: keys.length, installedVersion: null, installedAt: null, checkedAt };
    const why = err instanceof FrappeApiError && err.status === 403
      ? `the sidecar's user may not read ${STATE_DOCTYPE} (a release before ${wanted.version ?? 'this one'} installed it): run \`site install\``
      : redactSecrets(describeError(err));
    return { ...base, state: 'unknown', outOfDate: 0, installedVersion: null, installedAt: null, checkedAt, error: why };
  }
  const checkedAt = now().toISOString();
  let product: InstalledProduct | undefined;
  try {
    const text = typeof doc.install_state === 'string' ? doc.install_state : '';
    product = text ? (JSON.parse(text) as { product?: InstalledProduct }).product : undefined;
  } catch {
    return { ...base, state: 'unknown', outOfDate: 0, installedVersion: null, installedAt: null, checkedAt, error: `${STATE_DOCTYPE}'s install_state is not JSON` };
  }
  if (!product) {
    // Installed by a release that kept no digests, or an install that did not run to its end.
    return { ...base, state: 'out_of_date', outOfDate: keys.length, installedVersion: null, installedAt: null, checkedAt };
  }
  const outOfDate = keys.filter((k) => product.digests?.[k] !== wanted.digests[k]).length;
  return { ...base, state: outOfDate ? 'out_of_date' : 'up_to_date', outOfDate, installedVersion: product.version ?? null, installedAt: product.installedAt ?? null, checkedAt };
}
