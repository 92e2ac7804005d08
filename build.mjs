// Build: the CLI (and with it the emulator and, later, the sidecar) as Node ESM, and each desk
// bundle named in hooks_manifest.json as a browser IIFE — Client Scripts run through
// `new Function`, so they cannot be modules (frappe/public/js/frappe/form/script_manager.js).
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

await build({
  entryPoints: { cli: 'scripts/cli.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

// Validate the manifest with the same code the sidecar uses, then build what it lists.
await build({
  entryPoints: { 'manifest-loader': 'sidecar/manifest/load.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const { loadManifest } = await import('./dist/manifest-loader.js');
const manifest = loadManifest('hooks_manifest.json');

for (const target of manifest.desk) {
  await build({
    entryPoints: { [target.name]: target.entry },
    outdir: 'dist/desk',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2020'],
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
}
// The emulator's desk preview runtime (emulator/desk/runtime): one browser IIFE with jQuery and
// socket.io-client inside, served by the emulator at /assets/emulator/desk_runtime.js.
async function buildEmulatorDeskRuntime() {
  await build({
    entryPoints: { desk_runtime: 'emulator/desk/runtime/index.ts' },
    outdir: 'dist/emulator',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2020'],
    minify: false,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
await buildEmulatorDeskRuntime();

console.log(`built dist/cli.js and ${manifest.desk.length} desk bundle(s)`);
