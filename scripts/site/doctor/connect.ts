/** The connect check: REST answers with our key (`frappe.auth.get_logged_user`). */
import type { SiteConfig } from '../../../lib/config/load.js';
import { describeRestFailure } from './client_errors.js';
import type { DoctorCheck } from './types.js';

export async function checkConnect(site: SiteConfig, user: Promise<string>): Promise<DoctorCheck> {
  try {
    const name = await user;
    return { id: 'connect', ok: true, level: 'info', message: `REST answers at ${site.url} as ${name}` };
  } catch (err) {
    return { id: 'connect', ok: false, level: 'error', ...describeRestFailure(err, site) };
  }
}
