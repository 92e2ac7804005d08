import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (doctypes/, hooks_manifest.json, dist/desk/, package.json), whether run from
 * source or from dist/: the first folder upwards whose package.json is ours. Null when none is.
 */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'crm-order-companion') return dir;
    } catch {
      /* keep looking upwards */
    }
    dir = resolve(dir, '..');
  }
  return null;
}
