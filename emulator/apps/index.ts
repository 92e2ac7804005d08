/** Installed apps' controllers and doc_events, registered once per process (hooks are global, like Python modules). */
import { registerCrm } from './crm/controllers.js';
import { registerErpnext } from './erpnext/controllers.js';
import { registerFrappeCore } from './frappe/core.js';
import { registerHelpdesk } from './helpdesk/controllers.js';
import { registerHelpdeskPermissions } from './helpdesk/permissions.js';

let registered = false;

export function registerApps(): void {
  if (registered) return;
  registered = true;
  registerFrappeCore();
  registerErpnext();
  registerCrm();
  registerHelpdesk();
  registerHelpdeskPermissions();
}
