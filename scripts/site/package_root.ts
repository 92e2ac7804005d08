import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../../lib/site/package_root.js';
import { SiteCommandError } from './errors.js';

/** The package root (doctypes/, hooks_manifest.json, dist/desk/), whether run from source or dist/. */
export function packageRoot(): string {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (!root) throw new SiteCommandError('cannot find the crm-order-companion package (doctypes/ and hooks_manifest.json)');
  return root;
}
