// Build: the CLI (and with it the emulator and, later, the sidecar) as Node ESM, and each desk
// bundle named in hooks_manifest.json as a browser IIFE — Client Scripts run through
// `new Function`, so they cannot be modules (frappe/public/js/frappe/form/script_manager.js).
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildConsole } from './scripts/build/console.mjs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

await build({
  // The shop apply thread's module (sidecar/shops/apply/host.ts starts it from next to cli.js).
  entryPoints: { cli: 'scripts/cli.ts', apply_thread: 'sidecar/shops/apply/thread.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

/**
 * A form script for the Frappe CRM / Helpdesk Vue UIs (`ui: 'crm' | 'helpdesk'`). Their loaders
 * evaluate the stored script with `new Function`:
 * - CRM (frappe/crm frontend/src/data/script.js) takes every `/class\s+([A-Za-z0-9_]+)/` match
 *   (comments stripped) as a controller — the first, named after the DocType, is the parent, any
 *   other is a child-table controller — and runs `new Function(...helpers, script + "return <Name>")`.
 * - Helpdesk (frappe/helpdesk desk/src/composables/formCustomisation.ts) runs
 *   `new Function(script + "\nreturn setupForm")()` and calls the result with its context.
 * So: the entry is bundled as an IIFE assigned to `var __orderCompanion` (a `var`, hoisted within
 * the loader's function), behind a stub that is the only class / the `setupForm` the loader wants.
 */
const VUE_GLOBAL = '__orderCompanion';
const CRM_CLASS_RE = /class\s+([A-Za-z0-9_]+)/g;

/** The class names the CRM loader would find (scriptHelpers.js getClassNames: comments stripped first). */
function crmClassNames(script) {
  const withoutComments = script.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return [...withoutComments.matchAll(CRM_CLASS_RE)].map((m) => m[1]);
}

/**
 * The page helpers as the CRM loader's function parameters (script.js `evaluateFormClass`:
 * `new Function(...helperKeys, …)`), read by bare name from the stub. CRM v1.52.1's
 * setupFormController never copies them onto the controller, so `this.call` / `this.toast` /
 * `this.createDialog` are undefined there; newer CRM copies them as well. `typeof` keeps a name
 * the loader does not pass from being a ReferenceError.
 */
const CRM_HELPERS_FN = `${VUE_GLOBAL}Helpers`;
const CRM_HELPER_NAMES = ['call', 'toast', 'createDialog'];

function vueStub(target) {
  if (target.ui === 'crm') {
    const className = target.doctype.replace(/\s+/g, '');
    const call = `{ return ${VUE_GLOBAL}.onRender(this, ${CRM_HELPERS_FN}()); }`;
    const helpers = CRM_HELPER_NAMES.map((n) => `${n}: typeof ${n} === "undefined" ? undefined : ${n}`).join(', ');
    // onLoad/onRender/refresh: the lifecycle names CRM's document.js triggers across versions
    // (v1.52.1: onLoad/on_load/onload and refresh; newer: onRender/on_render/refresh too).
    return {
      className,
      text: `class ${className} {\n  onLoad() ${call}\n  onRender() ${call}\n  refresh() ${call}\n}\nfunction ${CRM_HELPERS_FN}() {\n  return { ${helpers} };\n}\n`,
    };
  }
  return { text: `function setupForm(ctx) {\n  return ${VUE_GLOBAL}.setupForm(ctx);\n}\n` };
}

async function buildVueFormScript(target) {
  const result = await build({
    entryPoints: [target.entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: VUE_GLOBAL,
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    write: false,
    logLevel: 'warning',
  });
  // esbuild puts "use strict" first (the TS config is strict); the stub must come first, so drop it.
  const bundle = result.outputFiles[0].text.replace(/^"use strict";/, '');
  if (!bundle.startsWith(`var ${VUE_GLOBAL}=`)) throw new Error(`${target.name}: expected the bundle to start with "var ${VUE_GLOBAL}=", got ${JSON.stringify(bundle.slice(0, 40))}`);
  const stub = vueStub(target);
  const script = `${stub.text}${bundle}`;
  if (target.ui === 'crm') {
    const names = crmClassNames(script);
    if (names.length !== 1 || names[0] !== stub.className) {
      throw new Error(
        `${target.name}: the CRM loader would find the classes [${names.join(', ')}] in dist/desk/${target.name}.js; ` +
          `it must find only ${stub.className} (any other \`class X\` — a JS class, or those words in a string — becomes a child-table controller). ` +
          `Remove classes from ${target.entry} and what it imports.`,
      );
    }
  } else if (!/^function setupForm\(/.test(script) || /\bclass\s+[A-Za-z0-9_]+/.test(bundle)) {
    throw new Error(`${target.name}: a Helpdesk form script must start with function setupForm( and bundle no class`);
  }
  mkdirSync('dist/desk', { recursive: true });
  writeFileSync(`dist/desk/${target.name}.js`, script);
}

// Validate the manifest with the same code the sidecar uses, then build what it lists.
await build({
  entryPoints: { 'manifest-loader': 'lib/manifest/load.ts' },
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
  if (target.ui === 'crm' || target.ui === 'helpdesk') {
    await buildVueFormScript(target);
    continue;
  }
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

// The ops console (console/): scripts/build/console.mjs says how frappe-ui is made to build.
const { sizes } = await buildConsole();
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`built dist/cli.js, ${manifest.desk.length} desk bundle(s) and dist/console/ (js ${kb(sizes['console.js'].bytes)}, ${kb(sizes['console.js'].gzip)} gzip; css ${kb(sizes['console.css'].bytes)}, ${kb(sizes['console.css'].gzip)} gzip)`);
