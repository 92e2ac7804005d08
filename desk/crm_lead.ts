/** Client Script for CRM Lead in Desk (installed from hooks_manifest.json `desk`). */
import { registerOrderHistoryForm } from './order_history/form.js';

registerOrderHistoryForm({ doctype: 'CRM Lead', tableField: 'custom_order_history' });
