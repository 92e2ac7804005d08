/** The time_zone check: the site's System Settings time zone (datetimes on the wire are site-local). */
import type { SiteConfig } from '../../../lib/config/load.js';
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { blockedBy, describeRestFailure } from './client_errors.js';
import type { DoctorCheck } from './types.js';

export async function checkTimeZone(client: FrappeClient, site: SiteConfig): Promise<DoctorCheck> {
  try {
    const answer = await client.call<{ time_zone?: string | null }>('frappe.client.get_time_zone', {}, 'GET');
    const tz = answer?.time_zone;
    if (!tz) {
      return {
        id: 'time_zone',
        ok: false,
        level: 'error',
        message: 'the site has no time zone set: its datetimes cannot be placed in time',
        fix: 'set Time Zone in System Settings',
      };
    }
    return { id: 'time_zone', ok: true, level: 'info', message: `site time zone ${tz}` };
  } catch (err) {
    return { id: 'time_zone', ok: false, level: 'error', message: blockedBy(err) ?? `cannot read the time zone: ${describeRestFailure(err, site).message}` };
  }
}
