/**
 * The helpers the two Vue UIs hand a form script, typed from their loaders: Frappe CRM's class
 * controllers (frappe/crm frontend/src/data/script.js: `call`, `toast`, `createDialog`, … as bare
 * names — the script's function parameters — and, only in CRM newer than v1.52.1, also as
 * `this.<helper>`; the document resource's own keys such as `reload` on `this` in every version) and
 * Helpdesk's `setupForm(ctx)` (frappe/helpdesk desk/src/components/ticket-agent/TicketHeader.vue).
 * Plain interfaces: nothing here is a page global.
 */

/** frappe-ui `call(method, args)`: resolves with `message`; rejects with an Error carrying `messages`. */
export type VueCall = <T = any>(method: string, args?: Record<string, unknown>) => Promise<T>;

/**
 * frappe-ui `toast` (success/error always; info/warning in current frappe-ui; `loading` / `dismiss`
 * where it is vue-sonner's toast with frappe-ui's additions — frappe/frappe-ui
 * src/components/Toast/toast.ts: a loading toast stays until dismissed by the id it returned).
 */
export interface VueToast {
  success(message: string): unknown;
  error(message: string): unknown;
  info?(message: string): unknown;
  warning?(message: string): unknown;
  loading?(message: string): unknown;
  dismiss?(id?: unknown): unknown;
}

export interface VueDialogOptions {
  title?: string;
  message?: string;
  /** CRM: `v-html` after DOMPurify; Helpdesk: `v-html` unsanitised (older Helpdesk: shown as text). */
  html?: string;
  size?: string;
  actions?: { label: string; variant?: string; onClick: (...args: any[]) => unknown }[];
}

export type VueCreateDialog = (options: VueDialogOptions) => unknown;

export interface VueActionItem {
  label: string;
  icon?: string;
  onClick: (...args: any[]) => unknown;
}

/** A labelled dropdown in the page header (CustomActions.vue / TicketHeader.vue `groupedWithLabelActions`). */
export interface VueActionGroup {
  group: string;
  buttonLabel: string;
  items: VueActionItem[];
}

export type VueAction = VueActionItem | VueActionGroup | ({ group: string } & Record<string, unknown>);

/** The CRM loader's helpers as the script's function parameters (script.js evaluateFormClass). */
export interface CrmHelpers {
  call?: VueCall;
  toast?: VueToast;
  createDialog?: VueCreateDialog;
}

/**
 * `this` inside a CRM Form Script class method (frappe/crm script.js setupFormController): the
 * helpers are there only in CRM newer than v1.52.1.
 */
export interface CrmController {
  doc: Record<string, any>;
  actions: VueAction[];
  call?: VueCall;
  toast?: VueToast;
  createDialog?: VueCreateDialog;
  /** Copied from the frappe-ui document resource (documentResource.js `reload` → `get.fetch()`); absent on a new document. */
  reload?: () => Promise<unknown>;
}

/** The context Helpdesk's agent ticket page passes to `setupForm`. */
export interface HelpdeskContext {
  doc: Record<string, any>;
  call: VueCall;
  toast: VueToast;
  $dialog: VueCreateDialog;
  updateField?: (fieldname: string, value: unknown) => unknown;
  router?: unknown;
  createToast?: unknown;
}
