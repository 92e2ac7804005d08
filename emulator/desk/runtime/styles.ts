/**
 * The preview's stylesheet, injected by the bundle: Frappe-like class names (`indicator-pill`
 * with `green|blue|orange|yellow|red|gray`, `btn`, `dropdown-menu`, `dropdown-item`,
 * `.desk-alert`, `.form-message`, the grid's `.grid-row` / `.grid-static-col`), so screenshots
 * read like a desk page. Plain CSS, no Frappe assets.
 */
export const CSS = `
:root { --blue: #2490ef; --green: #29cd42; --orange: #f8814f; --yellow: #ecad4b; --red: #e24c4c; --gray: #98a1a9; --border: #d1d8dd; --text-muted: #6c7680; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; color: #1f272e; background: #f4f5f6; }
.hidden, .hide, .hide-control { display: none !important; }
.text-muted { color: var(--text-muted); }
.small { font-size: 12px; }
.flex { display: flex; }
.justify-between { justify-content: space-between; }
.justify-content-end { justify-content: flex-end; }
.align-center { align-items: center; }
.ellipsis { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.container { max-width: 1200px; margin: 0 auto; padding: 0 16px; }
.row { display: flex; flex-wrap: wrap; }
.col { flex: 1 1 0; min-width: 0; }
.navbar { background: #fff; border-bottom: 1px solid var(--border); padding: 8px 16px; font-weight: 600; }
.navbar .navbar-user { float: right; font-weight: normal; color: var(--text-muted); }
.btn { display: inline-block; border: 1px solid var(--border); background: #fff; border-radius: 6px; padding: 4px 10px; font-size: 13px; cursor: pointer; color: inherit; }
.btn:disabled { opacity: .6; cursor: default; }
.btn-primary { background: #171717; border-color: #171717; color: #fff; }
.btn-danger { background: var(--red); border-color: var(--red); color: #fff; }
.btn-xs { padding: 1px 6px; font-size: 11px; }
.btn-sm { padding: 3px 8px; }
.btn-link { border: 0; background: none; }
.pull-right { float: right; }
.indicator-pill { display: inline-flex; align-items: center; border-radius: 10px; padding: 2px 8px; margin-left: 8px; font-size: 12px; background: #f0f0f0; color: #555; }
.indicator-pill.green { background: #e4f5e9; color: #16794c; }
.indicator-pill.blue { background: #e8f1fb; color: #1d4e89; }
.indicator-pill.orange { background: #fff1e7; color: #c0541a; }
.indicator-pill.yellow { background: #fff7d3; color: #8d6708; }
.indicator-pill.red { background: #fff0f0; color: #b52a2a; }
.indicator-pill.gray, .indicator-pill.grey { background: #f0f0f0; color: #555; }
.indicator::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--gray); }
.indicator.green::before { background: var(--green); } .indicator.blue::before { background: var(--blue); }
.indicator.orange::before { background: var(--orange); } .indicator.yellow::before { background: var(--yellow); } .indicator.red::before { background: var(--red); }
.page-head { background: #fff; border-bottom: 1px solid var(--border); padding: 12px 0; position: sticky; top: 0; z-index: 10; }
.title-area { align-items: center; gap: 4px; }
.title-text { margin: 0; font-size: 20px; }
.title-docname { margin-left: 8px; font-size: 12px; }
.page-actions { gap: 8px; align-items: center; }
.custom-actions, .standard-actions { display: flex; gap: 8px; align-items: center; }
.inner-group-button, .menu-btn-group { position: relative; display: inline-block; }
.inner-group-button > button::after { content: " ▾"; }
.dropdown-menu { display: none; position: absolute; z-index: 1000; min-width: 160px; right: 0; top: 100%; background: #fff; border: 1px solid var(--border); border-radius: 6px; padding: 4px 0; margin: 2px 0 0; list-style: none; box-shadow: 0 2px 8px rgba(0,0,0,.1); }
.dropdown-menu.show { display: block; }
.dropdown-item { display: block; padding: 4px 12px; color: inherit; text-decoration: none; white-space: nowrap; cursor: pointer; }
.dropdown-item:hover { background: #f4f5f6; }
.hidden-xl { display: none !important; }
.icon { width: 0; height: 0; }
.sr-text { font-size: 12px; }
.page-body { padding-top: 16px; }
/* frappe/public/js/frappe/ui/page.js [v15] (add_view("main", …)): a form page keeps two of twelve columns for its
   sidebar (empty here), so the form — and its grids — get the widths they get on a real desk. */
.layout-side-section { flex: 0 0 calc(200% / 12); max-width: calc(200% / 12); }
.layout-main-section { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 16px; }
.form-message { border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; position: relative; }
.form-message.blue { background: #e8f1fb; } .form-message.yellow { background: #fff7d3; } .form-message.orange { background: #fff1e7; }
.form-message.red { background: #fff0f0; } .form-message.green { background: #e4f5e9; }
.form-message .close-message { position: absolute; right: 8px; top: 4px; cursor: pointer; }
.form-message .btn { margin-left: 12px; }
.form-tabs { display: flex; list-style: none; margin: 0 0 12px; padding: 0; border-bottom: 1px solid var(--border); gap: 16px; }
.form-tabs .nav-link { display: block; padding: 6px 0; color: var(--text-muted); text-decoration: none; border-bottom: 2px solid transparent; }
.form-tabs .nav-link.active { color: #1f272e; border-bottom-color: #1f272e; }
.tab-pane { display: none; } .tab-pane.active { display: block; }
.form-section { border-bottom: 1px solid #eee; padding: 8px 0; flex-direction: column; }
.form-section.empty-section { display: none; }
.section-head { font-weight: 600; margin-bottom: 8px; width: 100%; }
.section-body { display: flex; gap: 24px; width: 100%; }
.form-column { flex: 1 1 0; min-width: 0; }
.frappe-control { margin-bottom: 10px; }
.control-label { display: block; font-size: 12px; color: var(--text-muted); margin-bottom: 2px; }
.control-label.reqd::after { content: " *"; color: var(--red); }
.form-control { width: 100%; border: 1px solid var(--border); border-radius: 6px; padding: 4px 8px; font: inherit; background: #f8f8f8; }
textarea.form-control { min-height: 60px; }
.like-disabled-input { padding: 4px 8px; border-radius: 6px; background: #f4f5f6; min-height: 28px; }
.has-error .form-control { border-color: var(--red); }
.form-dashboard { margin-bottom: 12px; }
.grid-field .control-label { margin-bottom: 4px; }
.form-grid { border: 1px solid var(--border); border-radius: 6px; overflow: hidden; }
.grid-heading-row { background: #f4f5f6; font-weight: 600; border-bottom: 1px solid var(--border); }
.grid-row .data-row { display: flex; align-items: stretch; min-height: 32px; }
.grid-body .grid-row { border-bottom: 1px solid #eee; }
/* Grid widths as the desk lays them out (Bootstrap's col-xs-N in frappe/public/scss; grid.js
   setup_visible_columns counts the row index as one of the 12 units): a column of N units is N/12
   of the row, whatever its content; a cell is one line and what does not fit is cut with an
   ellipsis — on a real desk one unit is about 66 px and cut "Approved" to "Approve…" (issue 11). */
.grid-row .row-check, .grid-row .row-index { flex: 0 0 calc(100% / 24); max-width: calc(100% / 24); padding: 6px 0; text-align: center; }
.grid-static-col { padding: 6px 8px; border-left: 1px solid #eee; cursor: pointer; min-width: 0; overflow: hidden; white-space: nowrap; }
.grid-static-col .static-area { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.grid-static-col .indicator-pill { margin-left: 0; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; display: inline-block; vertical-align: middle; }
.grid-static-col.col-xs-1 { flex: 0 0 calc(100% / 12); max-width: calc(100% / 12); }
.grid-static-col.col-xs-2 { flex: 0 0 calc(200% / 12); max-width: calc(200% / 12); }
.grid-static-col.col-xs-3 { flex: 0 0 calc(300% / 12); max-width: calc(300% / 12); }
.grid-static-col.col-xs-4 { flex: 0 0 calc(400% / 12); max-width: calc(400% / 12); }
.grid-static-col.col-xs-5 { flex: 0 0 calc(500% / 12); max-width: calc(500% / 12); }
.grid-static-col.col-xs-6 { flex: 0 0 calc(600% / 12); max-width: calc(600% / 12); }
.grid-static-col.col-xs-7 { flex: 0 0 calc(700% / 12); max-width: calc(700% / 12); }
.grid-static-col.col-xs-8 { flex: 0 0 calc(800% / 12); max-width: calc(800% / 12); }
.grid-static-col.col-xs-9 { flex: 0 0 calc(900% / 12); max-width: calc(900% / 12); }
.grid-static-col.col-xs-10 { flex: 0 0 calc(1000% / 12); max-width: calc(1000% / 12); }
.grid-static-col.col-configure, .grid-row .data-row > .col:last-child:not(.grid-static-col) { flex: 1 1 0; min-width: 24px; }
.grid-static-col.error { background: #fff0f0; }
.editable-row .grid-static-col { padding: 2px 4px; }
.editable-row .form-control { padding: 2px 6px; }
.btn-open-row { padding: 6px; cursor: pointer; text-align: center; }
.grid-empty { padding: 12px; color: var(--text-muted); }
.grid-footer { padding: 6px 0; }
.grid-buttons { display: flex; gap: 6px; }
.grid-pagination { display: flex; gap: 6px; align-items: center; }
.grid-pagination .page-text { display: flex; gap: 4px; align-items: center; }
.grid-pagination .current-page-number { width: 32px; text-align: center; border: 1px solid var(--border); border-radius: 4px; }
.grid-form { border-top: 1px solid var(--border); padding: 12px; background: #fafbfc; }
.grid-form-heading { display: flex; justify-content: space-between; margin-bottom: 8px; font-weight: 600; }
#dialog-container { position: fixed; right: 16px; bottom: 16px; z-index: 3000; }
#alert-container { display: flex; flex-direction: column; gap: 8px; }
.desk-alert { position: relative; min-width: 280px; max-width: 420px; background: #fff; border: 1px solid var(--border); border-left: 4px solid var(--blue); border-radius: 8px; padding: 10px 28px 10px 12px; box-shadow: 0 4px 16px rgba(0,0,0,.12); transition: opacity .5s; }
.desk-alert.green { border-left-color: var(--green); } .desk-alert.orange { border-left-color: var(--orange); }
.desk-alert.yellow { border-left-color: var(--yellow); } .desk-alert.red { border-left-color: var(--red); }
.desk-alert.out { opacity: 0; }
.desk-alert .close { position: absolute; right: 8px; top: 6px; cursor: pointer; }
.alert-title-container { display: flex; gap: 6px; align-items: center; }
.modal { display: none; position: fixed; inset: 0; z-index: 1050; overflow: auto; }
.modal.show { display: block; }
.modal-dialog { max-width: 560px; margin: 80px auto; }
.modal-content { background: #fff; border-radius: 8px; box-shadow: 0 8px 32px rgba(0,0,0,.2); }
.modal-header { display: flex; justify-content: space-between; align-items: center; padding: 12px 16px; border-bottom: 1px solid #eee; }
.modal-title { margin: 0; font-size: 16px; }
.modal-body { padding: 16px; max-height: 60vh; overflow: auto; }
.modal-body pre { white-space: pre-wrap; }
.modal-footer { padding: 12px 16px; border-top: 1px solid #eee; text-align: right; }
.modal-backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.3); z-index: 1040; }
#freeze { z-index: 1060; background: rgba(255,255,255,.4); }
.desk-error-page { padding: 32px; }
`;

export function inject_styles(): void {
  const style = document.createElement('style');
  style.id = 'desk-preview-styles';
  style.textContent = CSS;
  document.head.appendChild(style);
}
