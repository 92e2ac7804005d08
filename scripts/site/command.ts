/**
 * `crm-order-companion site …`: the installer's command line. The site and its credentials come
 * from the same configuration as the sidecar (FRAPPE_URL/FRAPPE_API_KEY/FRAPPE_API_SECRET or
 * COC_CONFIG); install and uninstall need an administrator's (System Manager) key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type SiteConfig } from '../../lib/config/load.js';
import { clientForSite } from '../../lib/frappe/client.js';
import { loadManifest } from '../../lib/manifest/load.js';
import { InstallFailed, InstallRefused, install, uninstall } from './install.js';
import { formatPlan, makePlan } from './plan.js';
import { loadDesired } from '../../lib/site/records.js';
import { SiteCommandError } from './errors.js';
import { packageRoot } from './package_root.js';

export { SiteCommandError };

const USAGE = 'usage: site plan|install [--sidecar-user EMAIL]|uninstall [--drop-data]|doctor|export --file F|import --file F [--dry-run]  [--site NAME]';

function pickSite(name: string | undefined): SiteConfig {
  const { sites } = loadConfig();
  if (name) {
    const site = sites.find((s) => s.name === name);
    if (!site) throw new SiteCommandError(`no configured site is named ${name}; configured: ${sites.map((s) => s.name).join(', ')}`);
    return site;
  }
  if (sites.length > 1) throw new SiteCommandError(`several sites are configured; pick one with --site (${sites.map((s) => s.name).join(', ')})`);
  return sites[0];
}

export async function site(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { site: { type: 'string' }, 'sidecar-user': { type: 'string' }, 'drop-data': { type: 'boolean' }, file: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  });
  if (!sub || !['plan', 'install', 'uninstall', 'doctor', 'export', 'import'].includes(sub)) throw new SiteCommandError(USAGE);
  const target = pickSite(values.site);
  const client = clientForSite(target);
  const root = packageRoot();
  const desired = () => {
    try {
      return loadDesired(join(root, 'doctypes'), loadManifest(join(root, 'hooks_manifest.json')), join(root, 'dist', 'desk'));
    } catch (e) {
      // Our own files (a desk bundle not built yet, a record that does not parse): the sentence
      // says which and what to run; a stack trace would say nothing more to the user.
      if (e instanceof Error && !(e instanceof TypeError)) throw new SiteCommandError(e.message);
      throw e;
    }
  };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    // One call first that every Frappe site answers: when something else answers (a wrong URL or
    // site name), the command stops there with the client's "no Frappe site answers at …",
    // before a foreign 404 could be read as "this record is missing" (the plan's create rows).
    if (sub !== 'doctor') await client.call('frappe.auth.get_logged_user', {}, 'GET');
    switch (sub) {
      case 'plan':
        out(`Plan for ${target.name} (nothing is changed):`);
        out(formatPlan(await makePlan(client, desired())));
        return 0;
      case 'install': {
        const result = await install(client, desired(), out, { sidecarUser: values['sidecar-user'] });
        out(result.applied.length ? `Installed into ${target.name}: ${result.applied.length} change(s).` : `${target.name} is up to date: nothing to change.`);
        return 0;
      }
      case 'uninstall': {
        const result = await uninstall(client, { dropData: values['drop-data'] }, out);
        out(`Uninstalled from ${target.name}: ${result.removed.length} removed, ${result.restored.length} restored.`);
        for (const k of result.kept) out(`kept (still in use): ${k}`);
        return 0;
      }
      case 'doctor': {
        const { runDoctor, formatDoctor } = await import('./doctor/index.js');
        const report = await runDoctor(target);
        out(formatDoctor(report));
        return report.ok ? 0 : 1;
      }
      case 'export': {
        if (!values.file) throw new SiteCommandError('usage: site export --file F');
        const { exportRecords } = await import('./transfer.js');
        const file = await exportRecords(client, { manifest: loadManifest(join(root, 'hooks_manifest.json')) });
        writeFileSync(resolve(values.file), `${JSON.stringify(file, null, 2)}\n`);
        out(`Exported ${file.records.length} record(s) from ${target.name} to ${resolve(values.file)}.`);
        return 0;
      }
      case 'import': {
        if (!values.file) throw new SiteCommandError('usage: site import --file F [--dry-run]');
        const { importRecords, formatImport } = await import('./transfer.js');
        let parsed: unknown;
        try {
          parsed = JSON.parse(readFileSync(resolve(values.file), 'utf8'));
        } catch (e) {
          throw new SiteCommandError(`cannot read ${resolve(values.file)} as JSON: ${(e as Error).message}`);
        }
        out(formatImport(await importRecords(client, parsed, { dryRun: values['dry-run'] })));
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof InstallRefused || e instanceof InstallFailed) throw new SiteCommandError(e.message);
    throw e;
  }
  return 2;
}
