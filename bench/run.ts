/**
 * `npm run bench`: run every bench/*.bench.ts in turn. Each writes bench/results/<name>.json as
 * {name, date, node, metrics, baseline}, the baseline measured in the same run, so figures are
 * compared as ratios on these shared, noisy machines.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !file.includes(only)) continue;
  process.stdout.write(`\n== ${file}\n`);
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run: () => Promise<void> };
  await mod.run();
}
