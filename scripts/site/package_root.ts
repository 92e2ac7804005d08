import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SiteCommandError } from './errors.js';

/** The package root (doctypes/, hooks_manifest.json, dist/desk/), whether run from source or dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'crm-order-companion') return dir;
    } catch {
      /* keep looking upwards */
    }
    dir = resolve(dir, '..');
  }
  throw new SiteCommandError('cannot find the crm-order-companion package (doctypes/ and hooks_manifest.json)');
}
