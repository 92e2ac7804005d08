/**
 * Messages: `frappe.show_alert` / `frappe.toast`, `frappe.msgprint`, `frappe.throw`,
 * `frappe.confirm`, `frappe.hide_msgprint`, a small `frappe.ui.Dialog`, and
 * `frappe.dom.freeze` / `unfreeze`.
 *
 * Behaviour and DOM follow frappe/public/js/frappe/ui/messages.js and ui/dialog.js [v15]:
 * alerts are `#dialog-container > #alert-container > .alert.desk-alert.<indicator>` with
 * `.alert-message`, removed after `seconds` (minus 0.8 s of fade for seconds > 2); a msgprint is
 * one reused modal (`.modal.msgprint-dialog`, body `.msgprint`, title `.modal-title`, header
 * `.indicator.<colour>`); a list of messages (as in `_server_messages`) shows only the ones
 * that raised when any did; `{alert: 1}` messages become alerts.
 */
import $ from 'jquery';
import { __, frappe, win } from './globals.js';
import { icon, replace_newlines } from './utils.js';

interface DialogOpts {
  title?: string;
  indicator?: string;
  primary_action_label?: string;
  primary_action?: () => void;
  secondary_action_label?: string;
  secondary_action?: () => void;
  onhide?: () => void;
}

/** A Bootstrap-style modal with header, body and footer (dialog.js, much reduced). */
export class Dialog {
  $wrapper: JQuery;
  wrapper: HTMLElement;
  header: JQuery;
  body: HTMLElement;
  $body: JQuery;
  footer: JQuery;
  indicator: JQuery;
  display = false;
  primary_action_fulfilled = false;
  has_primary_action = false;
  onhide?: () => void;
  custom_onhide?: () => void;
  msg_area?: JQuery;
  clear?: () => void;

  constructor(opts: DialogOpts = {}) {
    this.$wrapper = $(`<div class="modal fade" tabindex="-1" role="dialog" aria-hidden="true">
      <div class="modal-dialog" role="document">
        <div class="modal-content">
          <div class="modal-header">
            <div class="fill-width flex title-section">
              <span class="indicator hidden"></span>
              <h4 class="modal-title"></h4>
            </div>
            <div class="modal-actions">
              <button class="btn btn-modal-close btn-link" data-dismiss="modal" aria-label="${__('Close')}">${icon('close-alt')}<span aria-hidden="true">&times;</span></button>
            </div>
          </div>
          <div class="modal-body ui-front"></div>
          <div class="modal-footer hide">
            <div class="standard-actions">
              <button type="button" class="btn btn-secondary btn-sm hide btn-modal-secondary"></button>
              <button type="button" class="btn btn-primary btn-sm hide btn-modal-primary"></button>
            </div>
          </div>
        </div>
      </div>
    </div>`).appendTo(document.body);
    this.wrapper = this.$wrapper.get(0)!;
    this.header = this.$wrapper.find('.modal-header');
    this.$body = this.$wrapper.find('.modal-body');
    this.body = this.$body.get(0)!;
    this.footer = this.$wrapper.find('.modal-footer');
    this.indicator = this.header.find('.indicator');
    this.onhide = opts.onhide;
    this.set_title(opts.title ?? '');
    if (opts.indicator) this.indicator.removeClass().addClass(`indicator ${opts.indicator}`);
    if (opts.primary_action) this.set_primary_action(opts.primary_action_label ?? __('Submit'), opts.primary_action);
    if (opts.secondary_action) {
      this.set_secondary_action(opts.secondary_action);
      this.set_secondary_action_label(opts.secondary_action_label ?? __('Cancel'));
    }
    this.$wrapper.find('.btn-modal-close').on('click', () => {
      this.hide();
      return false;
    });
  }

  set_title(title: string): void {
    this.header.find('.modal-title').html(title);
  }

  get_primary_btn(): JQuery {
    return this.footer.find('.btn-modal-primary');
  }

  set_primary_action(label: string, action: () => void): void {
    this.has_primary_action = true;
    this.footer.removeClass('hide');
    this.get_primary_btn()
      .removeClass('hide')
      .html(label)
      .off('click')
      .on('click', () => {
        this.primary_action_fulfilled = true;
        action();
      });
  }

  set_secondary_action(action: () => void): void {
    this.footer.removeClass('hide');
    this.footer
      .find('.btn-modal-secondary')
      .removeClass('hide')
      .off('click')
      .on('click', () => action());
  }

  set_secondary_action_label(label: string): void {
    this.footer.find('.btn-modal-secondary').removeClass('hide').html(label);
  }

  show(): this {
    this.primary_action_fulfilled = false;
    this.display = true;
    this.$wrapper.addClass('show').css('display', 'block').attr('aria-hidden', 'false');
    if (!$('.modal-backdrop.modal-backdrop-dialog').length) $('<div class="modal-backdrop modal-backdrop-dialog fade show"></div>').appendTo(document.body);
    return this;
  }

  hide(): void {
    if (!this.display) return;
    this.display = false;
    this.$wrapper.removeClass('show').css('display', 'none').attr('aria-hidden', 'true');
    if (!$('.modal.show').length) $('.modal-backdrop.modal-backdrop-dialog').remove();
    this.onhide?.();
  }
}

export interface MessageData {
  message?: unknown;
  title?: string;
  indicator?: string;
  alert?: unknown;
  toast?: unknown;
  raise_exception?: unknown;
  as_list?: unknown;
  as_table?: unknown;
  clear?: unknown;
  subtitle?: string;
  primary_action?: { label?: string; action?: () => void };
  [key: string]: unknown;
}

/** `frappe.msgprint(msg, title)` (messages.js [v15]). */
export function msgprint(msg: unknown, title?: string): Dialog | undefined {
  if (!msg) return undefined;
  let data: MessageData;
  if ($.isPlainObject(msg)) data = msg as MessageData;
  else if (typeof msg === 'string' && msg.startsWith('{')) data = JSON.parse(msg) as MessageData;
  else data = { message: msg, title };

  if (!data.indicator) data.indicator = 'blue';
  if (data.as_list && Array.isArray(data.message)) data.message = `<ul style="padding-left: 20px">${data.message.map((m) => `<li>${m}</li>`).join('')}</ul>`;
  if (data.as_table && Array.isArray(data.message)) {
    data.message = `<table class="table table-bordered" style="margin: 0;">${data.message.map((row: unknown[]) => `<tr>${row.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
  }
  if (Array.isArray(data.message)) {
    // A list (e.g. `_server_messages`): show only the messages that raised, when any did.
    let messages = (data.message as unknown[]).map((m) => (typeof m === 'string' ? JSON.parse(m) : m)) as MessageData[];
    const raised = messages.filter((m) => m.raise_exception);
    if (raised.length) messages = raised;
    messages.forEach((m) => msgprint(m));
    return undefined;
  }
  if (data.alert || data.toast) {
    show_alert(data);
    return undefined;
  }

  if (!frappe.msg_dialog) {
    const d = new Dialog({
      title: __('Message'),
      onhide: () => {
        d.custom_onhide?.();
        d.msg_area!.empty();
      },
    });
    d.msg_area = $('<div class="msgprint">').appendTo(d.body);
    d.clear = () => d.msg_area!.empty();
    frappe.msg_dialog = d;
  }
  const dialog: Dialog = frappe.msg_dialog;
  if (data.primary_action?.action) dialog.set_primary_action(__(data.primary_action.label || 'Done'), data.primary_action.action);
  else if (dialog.has_primary_action) {
    dialog.get_primary_btn().addClass('hide');
    dialog.has_primary_action = false;
  }
  let message = data.message === null || data.message === undefined ? '' : String(data.message);
  if (message.search(/<br>|<p>|<li>/) === -1) message = replace_newlines(message);
  let exists = false;
  if (data.clear) dialog.msg_area!.empty();
  else exists = !!dialog.msg_area!.html();
  if (data.title || !exists) dialog.set_title(data.title || __('Message'));
  dialog.indicator.removeClass().addClass(`indicator ${data.indicator}`);
  dialog.wrapper.classList.add('msgprint-dialog');
  if (exists) dialog.msg_area!.append('<hr>');
  dialog.msg_area!.append(message);
  dialog.$wrapper.css('z-index', 2000);
  dialog.show();
  return dialog;
}

export function hide_msgprint(): void {
  const d: Dialog | undefined = frappe.msg_dialog;
  if (d?.msg_area) d.msg_area.empty();
  if (d?.display) d.hide();
}

/** `frappe.throw(msg)`: a red msgprint, then an Error with the message. */
export function frappe_throw(msg: unknown): never {
  let data: MessageData = typeof msg === 'string' ? { message: msg, title: __('Error') } : (msg as MessageData);
  if (!data.indicator) data = { ...data, indicator: 'red' };
  msgprint(data);
  throw new Error(String(data.message));
}

/** `frappe.show_alert(message, seconds = 7, actions = {})` / `frappe.toast`. */
export function show_alert(message: unknown, seconds = 7, actions: Record<string, (e: unknown) => void> = {}): JQuery {
  const icons: Record<string, string> = { orange: 'solid-warning', yellow: 'solid-warning', blue: 'solid-info', green: 'solid-success', red: 'solid-error' };
  const m: MessageData = typeof message === 'string' ? { message } : (message as MessageData);
  if (!$('#dialog-container').length) $('<div id="dialog-container"><div id="alert-container"></div></div>').appendTo('body');
  const iconName = m.indicator ? icons[m.indicator.toLowerCase()] || `solid-${m.indicator}` : 'solid-info';
  const indicator = m.indicator || 'blue';
  const div = $(`<div class="alert desk-alert ${indicator}" role="alert">
      <div class="alert-message-container">
        <div class="alert-title-container">
          <div>${icon(iconName, 'lg')}</div>
          <div class="alert-message">${m.message}</div>
        </div>
        <div class="alert-subtitle">${m.subtitle || ''}</div>
      </div>
      <div class="alert-body" style="display: none"></div>
      <a class="close">${icon('close-alt')}<span aria-hidden="true">&times;</span></a>
    </div>`);
  div.hide().appendTo('#alert-container').show();
  if (m.body) div.find('.alert-body').show().html(String(m.body));
  div.find('.close, button').on('click', () => {
    div.addClass('out');
    window.setTimeout(() => div.remove(), 800);
    return false;
  });
  for (const [key, fn] of Object.entries(actions)) div.find(`[data-action=${key}]`).on('click', fn);
  const visible = seconds > 2 ? seconds - 0.8 : seconds;
  window.setTimeout(() => {
    div.addClass('out');
    window.setTimeout(() => div.remove(), 800);
  }, visible * 1000);
  return div;
}

/** `frappe.confirm(message, yes, no)`. */
export function confirm(message: string, confirm_action?: () => void, reject_action?: () => void, primary_label?: string, secondary_label?: string): Dialog {
  const d: Dialog = new Dialog({
    title: __('Confirm'),
    primary_action_label: __(primary_label || 'Yes'),
    primary_action: () => {
      confirm_action?.();
      d.hide();
    },
    secondary_action_label: __(secondary_label || 'No'),
    secondary_action: () => d.hide(),
  });
  d.$body.append(`<p class="frappe-confirm-message">${message}</p>`);
  if (reject_action) {
    d.onhide = () => {
      if (!d.primary_action_fulfilled) reject_action();
    };
  }
  d.show();
  return d;
}

let freeze_count = 0;

/** `frappe.dom.freeze(msg)` / `unfreeze()`: a counted full-page overlay while a request runs. */
export function freeze(msg?: string): void {
  if (!$('#freeze').length) {
    $(`<div id="freeze" class="modal-backdrop fade"><div class="freeze-message-container"><div class="freeze-message"></div></div></div>`).appendTo('body');
  }
  $('#freeze').addClass('show in').find('.freeze-message').text(msg ?? '');
  freeze_count++;
}

export function unfreeze(): void {
  if (!freeze_count) return;
  freeze_count--;
  if (!freeze_count) $('#freeze').remove();
}

export function install_messages(): void {
  frappe.msgprint = msgprint;
  win.msgprint = msgprint;
  frappe.hide_msgprint = hide_msgprint;
  frappe.throw = frappe_throw;
  frappe.show_alert = show_alert;
  frappe.toast = show_alert;
  frappe.confirm = confirm;
  frappe.ui ??= {};
  frappe.ui.Dialog = Dialog;
  frappe.dom ??= {};
  frappe.dom.freeze = freeze;
  frappe.dom.unfreeze = unfreeze;
  frappe.messages ??= {};
}
