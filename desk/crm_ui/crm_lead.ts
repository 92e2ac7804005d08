/**
 * CRM Form Script for CRM Lead in the Frappe CRM UI (/crm), installed from hooks_manifest.json
 * (`ui: 'crm'`). build.mjs bundles this as `var __orderCompanion = (() => {…})()` and puts
 * `class CRMLead { onLoad() {…} onRender() {…} refresh() {…} }` in front of it; each method calls
 * `__orderCompanion.onRender(this, helpers)`, `helpers` being the loader's `call` / `toast` /
 * `createDialog` as the script's function parameters. The header gets an "Order History" dropdown
 * with Show / Fetch.
 */
import type { CrmController, CrmHelpers, VueAction, VueActionGroup, VueCall, VueCreateDialog, VueToast } from '../vue_ui.js';
import { FETCH_LABEL, GROUP, SHOW_LABEL, TABLE_FIELD, fetchOrderHistory, showHistoryDialog, tr } from '../order_history/vue.js';

const DOCTYPE = 'CRM Lead';

/**
 * The page helpers: the loader's function parameters first, then `this`. CRM v1.52.1
 * (frappe/crm frontend/src/data/script.js, setupFormController) hands `call`, `toast` and
 * `createDialog` to the script only as parameters of `new Function(...helperKeys, script)` and
 * copies just the document resource's own keys onto the controller; newer CRM also copies the
 * helpers onto it. Read at click time, so a controller whose helpers arrive later still works.
 */
export function pageHelpers(ctrl: CrmController, given: CrmHelpers | undefined): { call: VueCall; toast: VueToast; createDialog: VueCreateDialog } {
  const call = given?.call ?? ctrl.call;
  const toast = given?.toast ?? ctrl.toast;
  const createDialog = given?.createDialog ?? ctrl.createDialog;
  if (typeof call !== 'function' || !toast || typeof createDialog !== 'function') {
    // Neither way in: a loader this script does not know. Say so instead of "e is not a function".
    throw new Error('Order History: the CRM page gave this form script no call / toast / createDialog');
  }
  return { call, toast, createDialog };
}

export function actionGroup(ctrl: CrmController, given?: CrmHelpers): VueActionGroup {
  return {
    group: GROUP,
    buttonLabel: tr(GROUP),
    items: [
      // `this.doc` is the page's live (reactive) document, child tables included (frappe.client.get).
      { label: tr(SHOW_LABEL), icon: 'list', onClick: () => showHistoryDialog(pageHelpers(ctrl, given).createDialog, ctrl.doc[TABLE_FIELD]) },
      {
        label: tr(FETCH_LABEL),
        icon: 'refresh-cw',
        onClick: () => {
          const { call, toast } = pageHelpers(ctrl, given);
          return fetchOrderHistory({
            call,
            toast,
            doctype: DOCTYPE,
            name: String(ctrl.doc.name),
            // The document resource's reload (frappe-ui documentResource.js), one of its own keys
            // that every CRM version copies onto the controller.
            afterDone: () => (typeof ctrl.reload === 'function' ? ctrl.reload() : undefined),
          });
        },
      },
    ],
  };
}

/** Put the group in the header (once: onLoad and onRender both call this). */
export function onRender(ctrl: CrmController, given?: CrmHelpers): void {
  if (!ctrl.doc || !ctrl.doc.name || ctrl.doc.__newDocument) return;
  const others = (Array.isArray(ctrl.actions) ? ctrl.actions : []).filter((a: VueAction) => !('group' in a && a.group === GROUP));
  ctrl.actions = [...others, actionGroup(ctrl, given)];
}
