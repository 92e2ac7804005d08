/**
 * The import boundaries of docs/architecture.md, checked by `npm test` (`npm run deps`) and by
 * test/architecture.test.ts, which feeds these rules a tree with forbidden imports to show they bite.
 *
 * Folders and what each may import (besides Node built-ins and npm packages):
 *   lib/          only lib/ — shared by the sidecar and the installer, so it knows neither
 *   sidecar/      lib/, sidecar/
 *   scripts/site/ lib/, scripts/site/, doctypes/ JSON — the installer never reaches into the sidecar
 *   scripts/      the CLI and the demo: the above, plus the sidecar's and stand-ins' entry modules
 *   desk/         desk/ and the generated DocType types of lib/doctypes/ (types only: the bundles
 *                 run inside Frappe's pages and carry nothing of Node)
 *   console/      console/ and the API's answer types of lib/api/views.ts (types only) — the ops
 *                 console page runs in the browser and talks to the sidecar (sidecar/console/)
 *                 over HTTP and a WebSocket, never through an import of its code
 *   emulator/     only emulator/ — it is Frappe, not us
 *   doubles/      only doubles/ — they are Shopify and Etsy, not us
 *   test/, bench/ anything; nothing else imports them
 * And nowhere an import cycle.
 */
const product = '^(lib|sidecar|scripts|desk|console|emulator|doubles)/';
const outside = (self) => `^(?!${self}/)(lib|sidecar|scripts|desk|console|emulator|doubles|doctypes|test|bench)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Modules import in one direction; a cycle means two modules are one concern, or a third is missing.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-only-lib',
      comment: 'lib/ is what the sidecar and the installer share: it may know neither of them.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: outside('lib') },
    },
    {
      name: 'sidecar-imports-lib-and-itself',
      severity: 'error',
      from: { path: '^sidecar/' },
      to: { path: outside('sidecar'), pathNot: '^lib/' },
    },
    {
      name: 'installer-imports-lib-only',
      comment: 'The installer (scripts/site/) talks to a site through lib/; it never reaches into the sidecar.',
      severity: 'error',
      from: { path: '^scripts/site/' },
      to: { path: '^(sidecar|desk|emulator|doubles|test|bench)/' },
    },
    {
      name: 'cli-uses-entry-modules',
      comment: 'The CLI and the demo compose the sidecar and the stand-ins through their entry modules only.',
      severity: 'error',
      from: { path: '^scripts/[^/]+\\.ts$' },
      to: {
        path: '^(sidecar|emulator|doubles|desk|test|bench)/',
        pathNot: [
          '^sidecar/(runtime|handlers/index|jobs/index|jobs/types)\\.ts$',
          '^emulator/(server|seed/demo)\\.ts$',
          '^doubles/(shopify|etsy)/index\\.ts$',
        ],
      },
    },
    {
      name: 'desk-imports-desk-and-generated-types',
      comment: 'Desk bundles run in Frappe pages: desk/ plus the generated DocType types, nothing of Node.',
      severity: 'error',
      from: { path: '^desk/' },
      to: { path: outside('desk'), pathNot: '^lib/doctypes/[^/]+\\.gen\\.ts$' },
    },
    {
      name: 'console-imports-console',
      comment: 'The ops console page runs in the browser: it reaches the sidecar over HTTP and its live link, never by import; it shares only the answer types of lib/api/views.ts.',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: outside('console'), pathNot: '^lib/api/views\\.ts$' },
    },
    {
      name: 'emulator-is-frappe-not-us',
      comment: 'The emulator stands in for a Frappe site: it imports nothing of the product.',
      severity: 'error',
      from: { path: '^emulator/' },
      to: { path: outside('emulator') },
    },
    {
      name: 'doubles-are-the-shops-not-us',
      severity: 'error',
      from: { path: '^doubles/' },
      to: { path: outside('doubles') },
    },
    {
      name: 'nothing-imports-tests-or-benchmarks',
      severity: 'error',
      from: { path: product },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a moved file (build output under dist/ exists only after a build).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '(^|/)dist/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // `exports` maps honoured (dependency-cruiser ignores them by default): frappe-ui resolves only
    // through its map, under the "import" condition.
    enhancedResolveOptions: { extensions: ['.ts', '.d.ts', '.js', '.mjs', '.json', '.vue'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
