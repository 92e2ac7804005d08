// The ops console (console/, served by the sidecar at /console): Vue single-file components and
// frappe-ui, bundled by esbuild into dist/console/ (index.html, console.js, console.css, fonts).
// frappe-ui ships its sources (.vue and .ts, `exports` → src/index.ts) and Tailwind-3 CSS, as
// Frappe CRM and Helpdesk consume it through Vite; three things make it build here:
// - its .vue files import icons as `~icons/lucide/<name>` (unplugin-icons, a Vite/Webpack plugin):
//   resolved below to a tiny component around lucide-static's SVG, a dependency of frappe-ui;
// - its package says "sideEffects": false, but esbuild only honours that for paths it resolves
//   itself, not for .vue files a plugin resolves — without it every component (the TextEditor with
//   tiptap, echarts' charts) stays in the bundle, ten times its size;
// - two copies of @tiptap/core are installed (frappe-ui pins an older one); its newer extensions
//   import a function the old one lacks, so the one at the top of node_modules is used everywhere.
// Its styles are Tailwind 3 with frappe-ui's preset (frappe-ui/tailwind), compiled with PostCSS.
import { build } from 'esbuild';
import vuePlugin from 'esbuild-plugin-vue3';
import { registerTS } from '@vue/compiler-sfc';
import ts from 'typescript';
import postcss from 'postcss';
import tailwind from 'tailwindcss';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';

// Its real path: esbuild reports the files it read by their real paths, and node_modules may be a symlink (a git worktree's).
const FRAPPE_UI = realpathSync(resolve('node_modules/frappe-ui'));

// frappe-ui's components declare props with imported types (defineProps<NodeViewProps>), which
// @vue/compiler-sfc can resolve only with TypeScript registered.
registerTS(() => ts);

const lucideIcons = {
  name: 'lucide-icons',
  setup(b) {
    b.onResolve({ filter: /^~icons\/lucide\// }, (a) => ({ path: a.path.slice('~icons/lucide/'.length), namespace: 'lucide', sideEffects: false }));
    b.onLoad({ filter: /.*/, namespace: 'lucide' }, (a) => {
      const file = join('node_modules/lucide-static/icons', `${a.path}.svg`);
      if (!existsSync(file)) return { errors: [{ text: `no lucide icon "${a.path}" in lucide-static` }] };
      const svg = readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '').trim();
      return {
        contents: `import { h, defineComponent } from 'vue';\nconst svg = ${JSON.stringify(svg)};\nexport default defineComponent({ name: ${JSON.stringify(`lucide-${a.path}`)}, inheritAttrs: true, setup() { return () => h('span', { class: 'inline-flex', innerHTML: svg }); } });\n`,
        loader: 'js',
        resolveDir: process.cwd(),
      };
    });
  },
};

const oneTiptapCore = {
  name: 'one-tiptap-core',
  setup(b) {
    b.onResolve({ filter: /^@tiptap\/core$/ }, (a) => (a.pluginData?.again ? undefined : b.resolve('@tiptap/core', { kind: a.kind, resolveDir: process.cwd(), pluginData: { again: true } })));
  },
};

/** The Vue plugin, with frappe-ui's "sideEffects": false applied to what it resolves. */
function withFrappeUiSideEffects(plugin) {
  return {
    name: plugin.name,
    setup(b) {
      const onResolve = (options, callback) =>
        b.onResolve(options, async (args) => {
          const result = await callback(args);
          if (result?.path?.startsWith(`${FRAPPE_UI}/`)) result.sideEffects = false;
          return result;
        });
      return plugin.setup(new Proxy(b, { get: (target, key) => (key === 'onResolve' ? onResolve : typeof target[key] === 'function' ? target[key].bind(target) : target[key]) }));
    },
  };
}

/**
 * frappe-ui's Tailwind preset, loadable: its ESM imports `tailwindcss/plugin` without an extension,
 * which Node's ESM loader refuses for Tailwind 3 (no `exports` map; Vite bundles the config
 * first). esbuild bundles it the same way, into a file beside the output.
 */
async function loadFrappeUiPreset() {
  const file = resolve('dist/.build/frappe-ui-tailwind-preset.mjs');
  await build({ entryPoints: [join(FRAPPE_UI, 'tailwind/index.js')], outfile: file, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  return (await import(file)).default;
}

/** The frappe-ui source files the bundle kept (from esbuild's metafile): Tailwind scans only those. */
function frappeUiFilesIn(metafile) {
  const files = new Set();
  for (const out of Object.values(metafile.outputs)) {
    for (const input of Object.keys(out.inputs)) {
      const path = resolve(input.replace(/^[a-z-]+:/, '').replace(/\?.*$/, ''));
      if (path.startsWith(`${FRAPPE_UI}/src/`)) files.add(path);
    }
  }
  return [...files];
}

async function buildCss(OUT, frappeUiFiles) {
  // frappe-ui's src/style.css: the Inter font, then Tailwind's layers.
  const input = readFileSync(join(FRAPPE_UI, 'src/style.css'), 'utf8').replace(/@import\s+['"][^'"]+['"];?/g, '');
  const config = {
    presets: [await loadFrappeUiPreset()],
    content: ['console/**/*.{vue,ts,html}', ...frappeUiFiles],
  };
  const { css } = await postcss([tailwind(config)]).process(input, { from: undefined });
  const fonts = readFileSync(join(FRAPPE_UI, 'src/fonts/Inter/inter.css'), 'utf8').replace(/url\('([^'?]+)(\?[^']*)?'\)/g, "url('fonts/$1')");
  mkdirSync(join(OUT, 'fonts'), { recursive: true });
  for (const f of ['Inter.var.woff2', 'Inter-Italic.var.woff2']) copyFileSync(join(FRAPPE_UI, 'src/fonts/Inter', f), join(OUT, 'fonts', f));
  return `${fonts}\n${css}`;
}

/**
 * Build the console into `outDir`. `honourSideEffects: false` leaves frappe-ui's "sideEffects":
 * false unapplied (bench/console.bench.ts measures the difference).
 */
export async function buildConsole({ outDir = 'dist/console', honourSideEffects = true } = {}) {
  const OUT = outDir;
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    entryPoints: { console: 'console/main.ts' },
    outdir: OUT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
    define: { __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false', 'process.env.NODE_ENV': '"production"' },
    plugins: [oneTiptapCore, lucideIcons, honourSideEffects ? withFrappeUiSideEffects(vuePlugin()) : vuePlugin()],
  });
  // Component <style> blocks, if any, come out as console.css; Tailwind's CSS goes before them.
  const sfcCss = existsSync(join(OUT, 'console.css')) ? readFileSync(join(OUT, 'console.css'), 'utf8') : '';
  writeFileSync(join(OUT, 'console.css'), `${await buildCss(OUT, frappeUiFilesIn(result.metafile))}\n${sfcCss}`);
  copyFileSync('console/index.html', join(OUT, 'index.html'));
  const size = (f) => ({ bytes: readFileSync(join(OUT, f)).length, gzip: gzipSync(readFileSync(join(OUT, f))).length });
  const sizes = { 'console.js': size('console.js'), 'console.css': size('console.css') };
  writeFileSync(join(OUT, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
  return { sizes, metafile: result.metafile };
}
