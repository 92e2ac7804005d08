/**
 * The boundary rules of .dependency-cruiser.cjs (docs/architecture.md) bite: `npm test` runs them
 * over the repository (`npm run deps`); here they are fed a small tree that breaks each rule once,
 * and one that keeps them, through the same CLI and configuration.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');
const dirs: string[] = [];

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Write `files` (path → source) into a fresh tree and cruise it with the project's rules. */
async function violationsOf(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'coc-arch-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const roots = [...new Set(Object.keys(files).map((p) => p.split('/')[0]))];
  const args = [...roots, '--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  // depcruise exits non-zero when it finds violations; its JSON report is on stdout either way.
  const stdout = await promisify(execFile)(depcruise, args, { cwd: dir }).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '',
  );
  const report = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('import boundaries', () => {
  it('a forbidden import or a cycle is reported by rule and path', async () => {
    const found = await violationsOf({
      'lib/frappe/client.ts': "import { stall } from '../../sidecar/jobs/stall.js';\nexport const client = stall;\n",
      'sidecar/jobs/stall.ts': 'export const stall = 1;\n',
      'scripts/site/install.ts': "import { stall } from '../../sidecar/jobs/stall.js';\nexport const x = stall;\n",
      'emulator/a.ts': "import { b } from './b.js';\nimport { client } from '../lib/frappe/client.js';\nexport const a = b + client;\n",
      'emulator/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'desk/form.ts': "import { stall } from '../sidecar/jobs/stall.js';\nexport const f = stall;\n",
      'console/api.ts': "import { stall } from '../sidecar/jobs/stall.js';\nexport const c = stall;\n",
    });
    expect(found).toEqual([
      'console-imports-console: console/api.ts → sidecar/jobs/stall.ts',
      'desk-imports-desk-and-generated-types: desk/form.ts → sidecar/jobs/stall.ts',
      'emulator-is-frappe-not-us: emulator/a.ts → lib/frappe/client.ts',
      'installer-imports-lib-only: scripts/site/install.ts → sidecar/jobs/stall.ts',
      'lib-imports-only-lib: lib/frappe/client.ts → sidecar/jobs/stall.ts',
      'no-cycle: emulator/a.ts → emulator/b.ts',
    ]);
  });

  it('imports the architecture allows are not reported', async () => {
    const found = await violationsOf({
      'lib/frappe/client.ts': 'export const client = 1;\n',
      'lib/doctypes/order_history_row.gen.ts': 'export interface HistoryRow { sales_order: string }\n',
      'sidecar/runtime.ts': "import { client } from '../lib/frappe/client.js';\nexport const run = client;\n",
      'scripts/site/install.ts': "import { client } from '../../lib/frappe/client.js';\nexport const x = client;\n",
      'scripts/cli.ts': "import { run } from '../sidecar/runtime.js';\nexport const cli = run;\n",
      'desk/form.ts': "import type { HistoryRow } from '../lib/doctypes/order_history_row.gen.js';\nexport const rows: HistoryRow[] = [];\n",
    });
    expect(found).toEqual([]);
  });
});

describe('documents the code cites', () => {
  const sources = execFileSync('git', ['ls-files', '*.ts', '*.mjs', '*.cjs'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');

  it('no comment sends the reader to a design or reference document outside the repository', () => {
    // Also "reference §2.6", "§1.3 of the reference", or a bare "(§4.1)": every § not after an RFC's number.
    const outside = /\b(DESIGN|STYLE)\.md\b|\b(frappe-platform|crm-helpdesk|shop-sync)\.md\b|shared\/reference\/|\breference §|(?<!RFC \d+ )§\d/;
    const offenders = sources.filter((f) => f !== 'test/architecture.test.ts' && outside.test(readFileSync(join(repo, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('every docs/ page the code names exists', () => {
    const named = new Set<string>();
    for (const f of sources) {
      for (const line of readFileSync(join(repo, f), 'utf8').split('\n')) {
        // A line that names another repository (owner/repo `docs/…`) cites that repository's pages.
        if (/[\w-]+\/[\w.-]+ `docs\//.test(line)) continue;
        for (const m of line.matchAll(/(?<![\w/.-])(docs\/[\w./-]+\.md)\b/g)) named.add(m[1]!);
      }
    }
    expect([...named].filter((p) => !existsSync(join(repo, p)))).toEqual([]);
    expect(named.has('docs/architecture.md')).toBe(true);
  });
});
