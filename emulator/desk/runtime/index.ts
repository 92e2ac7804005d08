/**
 * Entry point of the emulator's desk preview bundle (`dist/emulator/desk_runtime.js`, served at
 * `/assets/emulator/desk_runtime.js`). It installs the desk APIs, then boots like Frappe's desk
 * (frappe/public/js/frappe/desk.js + router.js + views/formview.js [v15]): `frappe.boot` comes
 * from the page, the socket connects, the route `/app/<doctype-slug>/<name>` is resolved through
 * the DocTypes the user can read (`frappe.boot.user.can_read`, slug = lower case with dashes),
 * and the form opens: `with_doctype` → `with_doc` → `new Form(…).refresh(name)`.
 */
import $ from 'jquery';
import { __, frappe, locals } from './globals.js';
import { install_controls } from './controls.js';
import { install_db } from './db.js';
import { Form, install_form } from './form.js';
import { install_format } from './format.js';
import { install_grid } from './grid.js';
import { install_messages } from './messages.js';
import { install_model, with_doc, with_doctype } from './model.js';
import { install_dropdowns } from './page.js';
import { install_realtime } from './realtime.js';
import { install_request } from './request.js';
import { install_script_manager } from './script_manager.js';
import { inject_styles } from './styles.js';
import { escape_html, install_utils, slug } from './utils.js';

install_utils();
install_messages();
install_request();
install_model();
install_realtime();
install_db();
install_format();
install_script_manager();
install_controls();
install_grid();
install_form();

let route: string[] = [];

/** `frappe.router` reduced to `/app/<slug>` and `/app/<slug>/<name>`. */
function parse_route(pathname: string): string[] {
  const parts = pathname.replace(/^\/app\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (!parts.length) return ['Workspaces'];
  const routes: Record<string, string> = {};
  for (const dt of (frappe.boot.user?.can_read ?? []) as string[]) routes[slug(dt)] = dt;
  const doctype = routes[parts[0]];
  if (!doctype) return parts;
  if (parts.length === 1) return ['List', doctype];
  return ['Form', doctype, parts.slice(1).join('/')];
}

frappe.get_route = () => route;
frappe.get_route_str = () => route.join('/');
frappe.set_route = (...args: unknown[]) => {
  const r = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map(String);
  if (r[0] === 'Form' && r[1]) window.location.href = `/app/${encodeURIComponent(slug(r[1]))}/${encodeURIComponent(r[2] ?? '')}`;
  else if (r[0] === 'List' && r[1]) window.location.href = `/app/${encodeURIComponent(slug(r[1]))}`;
  else window.location.href = `/app/${r.map((p) => encodeURIComponent(p)).join('/')}`;
};
frappe.route_options = null;
frappe.route_hooks = {};
frappe.breadcrumbs = { add: () => undefined, update: () => undefined };
frappe.ui.keys = { add_shortcut: () => undefined, get_shortcut_group: () => ({ add: () => undefined }) };
frappe.workflow = { is_read_only: () => false, get_state_fieldname: () => null, workflows: {} };
frappe.utils.play_sound = () => undefined;

function show_page_message(title: string, message: string): void {
  $('#body').html(`<div class="container desk-error-page"><h3>${escape_html(title)}</h3><p>${message}</p></div>`);
  document.body.dataset.formReady = 'error';
}

async function open_form(doctype: string, name: string): Promise<void> {
  await with_doctype(doctype);
  await with_doc(doctype, name);
  if (!locals[doctype]?.[name]) {
    show_page_message(__('Not found'), escape_html(__('{0} {1} not found', [__(doctype), name])));
    return;
  }
  const container = $('<div class="page-form-container"></div>').appendTo('#body');
  const frm = new Form(doctype, container, true);
  frappe.views.formview[doctype] = { frm };
  frm.refresh(name);
}

function boot(): void {
  inject_styles();
  install_dropdowns();
  const user = frappe.boot.user ?? {};
  frappe.session = { user: user.name ?? 'Guest', user_fullname: user.full_name ?? user.name, logged_in_user: user.name ?? 'Guest' };
  frappe.user = { name: frappe.session.user, has_role: (r: string | string[]) => (Array.isArray(r) ? r : [r]).some((x) => (user.roles ?? []).includes(x)) };
  frappe.user_roles = user.roles ?? [];
  if (Array.isArray(frappe.boot.docs)) frappe.model.sync(frappe.boot.docs);
  if (!$('#body').length) $('<div id="body"></div>').appendTo(document.body);
  $('#body').before(`<div class="navbar">${escape_html(frappe.boot.sitename ?? '')} <span class="navbar-user">${escape_html(frappe.session.user)}</span></div>`);
  frappe.realtime.init();
  frappe.model.init();
  route = parse_route(window.location.pathname);
  if (route[0] === 'Form') {
    open_form(route[1], route[2]).catch((e) => {
      console.error(e);
      show_page_message(__('Error'), escape_html(String((e as Error)?.message ?? e)));
    });
  } else if (route[0] === 'List') {
    show_page_message(__(route[1]), escape_html(__('Open a document: /app/{0}/<name>', [slug(route[1])])));
  } else if (route[0] === 'Workspaces') {
    show_page_message(__('Desk'), escape_html(__('Frappe emulator desk for {0}: open /app/<doctype>/<name> to preview a form.', [frappe.boot.sitename])));
  } else {
    show_page_message(__('Page {0} not found', [route.join('/')]), escape_html(__('The resource you are looking for is not available')));
  }
}

$(boot);
