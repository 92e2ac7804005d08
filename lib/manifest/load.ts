/** Load and validate hooks_manifest.json; a malformed one fails naming every bad key by its path. */
import { readFileSync } from 'node:fs';
import { manifestSchema, type HooksManifest } from './schema.js';

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** `realtime."CRM Lead".list_update[0]` — the path a person would look for in the file. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const k = String(key);
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (out ? `.${k}` : k) : `${out ? '.' : ''}"${k}"`;
    }
  }
  return out || '(root)';
}

export function parseManifest(value: unknown, source = 'hooks_manifest.json'): HooksManifest {
  const result = manifestSchema.safeParse(value);
  if (result.success) {
    const names = new Set<string>();
    for (const d of result.data.desk) {
      if (names.has(d.name)) throw new ManifestError(`${source}: desk bundle name "${d.name}" is used twice`, [{ path: 'desk', message: 'duplicate name' }]);
      names.add(d.name);
    }
    return result.data;
  }
  const issues = result.error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: 'unknown key' }));
    // A bad record key (a cron expression, say) carries the key's own error inside.
    if (i.code === 'invalid_key') return [{ path: formatPath(i.path), message: i.issues[0]?.message ?? i.message }];
    return [{ path: formatPath(i.path), message: i.message }];
  });
  throw new ManifestError(`${source} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`, issues);
}

export function loadManifest(path: string): HooksManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ManifestError(`cannot read ${path}: ${(e as Error).message}`, []);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${path} is not valid JSON: ${(e as Error).message}`, [{ path: '(root)', message: 'invalid JSON' }]);
  }
  return parseManifest(value, path);
}
