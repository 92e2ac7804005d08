/** The crm_toggles check: FCRM Settings toggles that write communication_status behind the SLA engine's back. */
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { blockedBy, frappeReason, statusOf } from './client_errors.js';
import type { DoctorCheck } from './types.js';

const TOGGLES: { field: 'auto_mark_replied_on_response' | 'auto_reopen_on_new_communication'; label: string }[] = [
  { field: 'auto_mark_replied_on_response', label: 'Mark lead/deal as replied on response' },
  { field: 'auto_reopen_on_new_communication', label: 'Reopen lead/deal on new communication' },
];

export async function checkCrmToggles(client: FrappeClient): Promise<DoctorCheck> {
  let settings: Record<string, unknown>;
  try {
    settings = await client.getDoc<Record<string, unknown>>('FCRM Settings', 'FCRM Settings');
  } catch (err) {
    const blocked = blockedBy(err);
    if (blocked) return { id: 'crm_toggles', ok: false, level: 'warning', message: `${blocked}; auto-reply/auto-reopen toggles unknown` };
    const status = statusOf(err);
    const why = status === 404 ? 'Frappe CRM may not be installed' : status === 403 ? 'the API user lacks read access to it' : 'CRM may not be installed or the user lacks access';
    return {
      id: 'crm_toggles',
      ok: false,
      level: 'warning',
      message: `cannot read FCRM Settings (${why}: ${frappeReason(err)}), so its auto-reply/auto-reopen toggles are unchecked`,
      fix: 'run the doctor with a CRM user (Sales User or above), or check CRM → Settings by hand: both toggles must be off',
    };
  }
  // CRM v1.52.1's FCRM Settings has neither field (recording single-get-fcrm-settings): later
  // releases added them. Without them CRM has no such shortcut to switch off.
  if (TOGGLES.every((t) => !(t.field in settings))) {
    return { id: 'crm_toggles', ok: true, level: 'info', message: 'FCRM Settings has no auto-reply/auto-reopen toggles in this CRM release: nothing writes communication_status behind the SLA engine' };
  }
  const on = TOGGLES.filter((t) => Number(settings[t.field] ?? 0) === 1);
  if (!on.length) {
    return { id: 'crm_toggles', ok: true, level: 'info', message: 'FCRM Settings: auto_mark_replied_on_response and auto_reopen_on_new_communication are off' };
  }
  return {
    id: 'crm_toggles',
    ok: false,
    level: 'warning',
    message:
      `FCRM Settings: ${on.map((t) => `${t.field} ("${t.label}")`).join(' and ')} ${on.length > 1 ? 'are' : 'is'} on. ` +
      'CRM then writes communication_status with frappe.db.set_value, bypassing the SLA engine, ' +
      "and the sidecar's save of the same status would see no change",
    fix: `switch off ${on.map((t) => `"${t.label}"`).join(' and ')} in CRM → Settings; the sidecar sets the status itself through a real save`,
  };
}
