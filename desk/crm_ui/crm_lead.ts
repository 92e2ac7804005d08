/**
 * CRM Form Script for CRM Lead in the Frappe CRM UI (/crm), installed from hooks_manifest.json
 * (`ui: 'crm'`). build.mjs bundles this as `var __orderCompanion = (() => {…})()` and puts
 * `class CRMLead { onLoad() {…} onRender() {…} refresh() {…} }` in front of it; each method calls
 * `__orderCompanion.onRender(this)`. The header gets an "Order History" dropdown with Show / Fetch.
 */
import type { CrmController, VueAction, VueActionGroup } from '../vue_ui.js';
import { FETCH_LABEL, GROUP, SHOW_LABEL, TABLE_FIELD, fetchOrderHistory, showHistoryDialog, tr } from '../order_history/vue.js';

const DOCTYPE = 'CRM Lead';

export function actionGroup(ctrl: CrmController): VueActionGroup {
  return {
    group: GROUP,
    buttonLabel: tr(GROUP),
    items: [
      // `this.doc` is the page's live (reactive) document, child tables included (frappe.client.get).
      { label: tr(SHOW_LABEL), icon: 'list', onClick: () => showHistoryDialog(ctrl.createDialog, ctrl.doc[TABLE_FIELD]) },
      {
        label: tr(FETCH_LABEL),
        icon: 'refresh-cw',
        onClick: () =>
          fetchOrderHistory({
            call: ctrl.call,
            toast: ctrl.toast,
            doctype: DOCTYPE,
            name: String(ctrl.doc.name),
            // The document resource's reload (frappe-ui documentResource.js), copied onto the controller.
            afterDone: () => (typeof ctrl.reload === 'function' ? ctrl.reload() : undefined),
          }),
      },
    ],
  };
}

/** Put the group in the header (once: onLoad and onRender both call this). */
export function onRender(ctrl: CrmController): void {
  if (!ctrl.doc || !ctrl.doc.name || ctrl.doc.__newDocument) return;
  const others = (Array.isArray(ctrl.actions) ? ctrl.actions : []).filter((a: VueAction) => !('group' in a && a.group === GROUP));
  ctrl.actions = [...others, actionGroup(ctrl)];
}
