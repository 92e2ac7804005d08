/**
 * The page chrome a form lives in: title, indicator pill, primary action, the inner toolbar
 * of custom buttons and the menu — frappe/public/js/frappe/ui/page.js [v15], reduced.
 *
 * Custom buttons (`add_inner_button(label, action, group)`):
 * - ungrouped: `<button data-label="<encoded label>" class="btn btn-default ellipsis">` in
 *   `.custom-actions` (the inner toolbar); an existing button with that label is returned
 *   instead of adding another;
 * - grouped: a `.inner-group-button[data-label="<encoded group>"]` holding a toggle
 *   `<button class="btn btn-default ellipsis" data-toggle="dropdown">Group</button>` and a
 *   `.dropdown-menu` of `<a class="dropdown-item" data-label="<encoded label>">`; the new `<a>`
 *   is returned, and — as in Frappe — nothing (undefined) when that label is already in the group;
 * - every button is also a `.user-action` item "Group > Label" in the page menu (shown only on
 *   small screens in Frappe);
 * - a click calls `action()` and disables the button while a returned promise / deferred runs.
 */
import $ from 'jquery';
import { __, frappe } from './globals.js';
import { icon, strip_html } from './utils.js';

export class Page {
  wrapper: JQuery;
  $title_area: JQuery;
  indicator: JQuery;
  page_actions: JQuery;
  btn_primary: JQuery;
  menu: JQuery;
  menu_btn_group: JQuery;
  inner_toolbar: JQuery;
  custom_actions: JQuery;
  main: JQuery;
  body: JQuery;
  title = '';

  constructor(parent: JQuery) {
    this.wrapper = $(`<div class="page-container">
      <div class="page-head">
        <div class="container page-head-content">
          <div class="row flex align-center page-title">
            <div class="col flex title-area">
              <h3 class="ellipsis title-text"></h3>
              <span class="indicator-pill no-indicator-dot whitespace-nowrap hide"></span>
            </div>
            <div class="flex col page-actions justify-content-end">
              <div class="custom-actions hide"></div>
              <div class="standard-actions flex">
                <div class="menu-btn-group hide">
                  <button type="button" class="btn btn-default icon-btn" data-toggle="dropdown" aria-expanded="false" title="${__('Menu')}">…</button>
                  <ul class="dropdown-menu dropdown-menu-right" role="menu"></ul>
                </div>
                <button class="btn btn-primary btn-sm hide primary-action"></button>
              </div>
            </div>
          </div>
        </div>
      </div>
      <div class="container page-body">
        <div class="page-wrapper"><div class="page-content"><div class="row layout-main"><div class="col-lg-2 layout-side-section"></div><div class="col layout-main-section-wrapper"><div class="layout-main-section"></div></div></div></div></div>
      </div>
    </div>`).appendTo(parent);
    this.$title_area = this.wrapper.find('.title-area');
    this.indicator = this.wrapper.find('.indicator-pill');
    this.page_actions = this.wrapper.find('.page-actions');
    this.btn_primary = this.page_actions.find('.primary-action');
    this.menu = this.page_actions.find('.menu-btn-group .dropdown-menu');
    this.menu_btn_group = this.page_actions.find('.menu-btn-group');
    this.custom_actions = this.page_actions.find('.custom-actions');
    this.inner_toolbar = this.custom_actions;
    this.main = this.wrapper.find('.layout-main-section');
    this.body = this.main;
  }

  set_title(title: string, _icon: string | null = null, strip = true, tab_title = '', tooltip_label = ''): void {
    const t = strip ? strip_html(title || '') : title || '';
    this.title = t;
    frappe.utils.set_title(tab_title || t);
    const el = this.$title_area.find('.title-text');
    el.html(t);
    el.attr('title', tooltip_label || t);
  }

  set_indicator(label: string, color: string): void {
    this.clear_indicator().removeClass('hide').html(`<span>${label}</span>`).addClass(color);
  }

  clear_indicator(): JQuery {
    return this.indicator.removeClass().addClass('indicator-pill no-indicator-dot whitespace-nowrap hide');
  }

  btn_disable_enable(btn: JQuery, response: any): void {
    if (response && typeof response.then === 'function') {
      btn.prop('disabled', true);
      response.then(
        () => btn.prop('disabled', false),
        () => btn.prop('disabled', false),
      );
    } else if (response && typeof response.always === 'function') {
      btn.prop('disabled', true);
      response.always(() => btn.prop('disabled', false));
    }
  }

  set_primary_action(label: string, click: (btn?: JQuery) => unknown, _icon?: string, working_label?: string): JQuery {
    const btn = this.btn_primary;
    this.clear_action_of(btn);
    btn
      .removeClass('hide')
      .prop('disabled', false)
      .html(label)
      .attr('data-label', label)
      .on('click', () => {
        const response = click(btn);
        this.btn_disable_enable(btn, response);
      });
    if (working_label) btn.attr('data-working-label', working_label);
    return btn;
  }

  clear_action_of(btn: JQuery): void {
    btn.addClass('hide').off('click').removeAttr('data-working-label');
  }

  clear_primary_action(): void {
    this.clear_action_of(this.btn_primary);
  }

  add_menu_item(label: string, click: () => unknown, standard = true, _shortcut?: unknown, show_parent = true): JQuery {
    return this.add_dropdown_item({ label, click, standard, parent: this.menu, show_parent });
  }

  add_dropdown_item(opts: { label: string; click: () => unknown; standard?: boolean; parent: JQuery; show_parent?: boolean }): JQuery {
    const { label, click, standard, parent } = opts;
    if (opts.show_parent !== false) parent.parent().removeClass('hide hidden-xl');
    const existing = this.is_in_group_button_dropdown(parent, 'li > a.grey-link > span', label);
    if (existing) return existing;
    const $li = $(`<li><a class="grey-link dropdown-item" href="#" onclick="return false;"><span class="menu-item-label" data-label="${encodeURIComponent(label)}">${label}</span></a></li>`);
    const $link = $li.find('a').on('click', () => click());
    if (standard) $li.appendTo(parent);
    else {
      let divider = parent.find('.dropdown-divider');
      if (!divider.length) divider = $('<li class="dropdown-divider user-action"></li>').prependTo(parent);
      $li.addClass('user-action').insertBefore(divider);
    }
    return $link;
  }

  is_in_group_button_dropdown(parent: JQuery, selector: string, label: string): JQuery | false {
    if (!label || !parent) return false;
    const items = $(parent).find(`${selector || 'li'}[data-label="${encodeURIComponent(label)}"]`);
    return items.length > 0 ? items : false;
  }

  get_or_add_inner_group_button(label: string): JQuery {
    let $group = this.inner_toolbar.find(`.inner-group-button[data-label="${encodeURIComponent(label)}"]`);
    if (!$group.length) {
      $group = $(`<div class="inner-group-button" data-label="${encodeURIComponent(label)}">
          <button type="button" class="btn btn-default ellipsis" data-toggle="dropdown" aria-haspopup="true" aria-expanded="false">${label} ${icon('select', 'xs')}</button>
          <div role="menu" class="dropdown-menu"></div>
        </div>`).appendTo(this.inner_toolbar);
    }
    return $group;
  }

  get_inner_group_button(label: string): JQuery {
    return this.inner_toolbar.find(`.inner-group-button[data-label="${encodeURIComponent(label)}"]`);
  }

  set_inner_btn_group_as_primary(label: string): void {
    this.get_or_add_inner_group_button(label).find('button').removeClass('btn-default').addClass('btn-primary');
  }

  add_inner_button(label: string, action: () => unknown, group?: string | null, type = 'default'): JQuery | undefined {
    const me = this;
    const _action = function (this: HTMLElement) {
      const response = action();
      me.btn_disable_enable($(this), response);
    };
    const menu_item = this.add_menu_item(group ? `${group} > ${label}` : label, _action as () => unknown, false, false, false);
    menu_item.parent().addClass('hidden-xl');
    if (this.menu_btn_group.hasClass('hide')) this.menu_btn_group.removeClass('hide').addClass('hidden-xl');
    if (group) {
      const $group = this.get_or_add_inner_group_button(group);
      this.inner_toolbar.removeClass('hide');
      if (!this.is_in_group_button_dropdown($group.find('.dropdown-menu'), 'a', label)) {
        return $(`<a class="dropdown-item" href="#" onclick="return false;" data-label="${encodeURIComponent(label)}">${label}</a>`)
          .on('click', _action)
          .appendTo($group.find('.dropdown-menu'));
      }
      return undefined;
    }
    let button = this.inner_toolbar.find(`button[data-label="${encodeURIComponent(label)}"]`);
    if (button.length === 0) {
      button = $(`<button data-label="${encodeURIComponent(label)}" class="btn btn-${type} ellipsis">${__(label)}</button>`);
      button.on('click', _action);
      button.appendTo(this.inner_toolbar.removeClass('hide'));
    }
    return button;
  }

  remove_inner_button(label: string | string[], group?: string): void {
    const labels = (typeof label === 'string' ? [label] : label).map((l) => __(l));
    if (group) {
      const $group = this.get_inner_group_button(__(group));
      if ($group.length) $group.find(`.dropdown-item[data-label="${encodeURIComponent(String(labels))}"]`).remove();
      if ($group.find('.dropdown-item').length === 0) $group.remove();
    } else {
      this.inner_toolbar.find(`button[data-label="${encodeURIComponent(String(labels))}"]`).remove();
    }
  }

  change_inner_button_type(label: string, group: string | null, type: string): void {
    let btn: JQuery | undefined;
    if (group) {
      const $group = this.get_inner_group_button(__(group));
      if ($group.length) btn = $group.find(`.dropdown-item[data-label="${encodeURIComponent(label)}"]`);
    } else btn = this.inner_toolbar.find(`button[data-label="${encodeURIComponent(label)}"]`);
    btn?.removeClass().addClass(`btn btn-${type} ellipsis`);
  }

  clear_inner_toolbar(): void {
    this.inner_toolbar.empty().addClass('hide');
  }

  clear_user_actions(): void {
    this.menu.find('.user-action').remove();
  }
}

/** Bootstrap's `data-toggle="dropdown"`, enough for the desk's button groups and menus. */
export function install_dropdowns(): void {
  const close_all = (except?: Element) => {
    $('.dropdown-menu.show').each(function () {
      if (except && $(this).parent().get(0) === except) return;
      $(this).removeClass('show').parent().removeClass('show').find('[data-toggle="dropdown"]').attr('aria-expanded', 'false');
    });
  };
  $(document).on('click', '[data-toggle="dropdown"]', function (e) {
    e.preventDefault();
    const $parent = $(this).parent();
    const $menu = $parent.children('.dropdown-menu');
    const open = !$menu.hasClass('show');
    close_all($parent.get(0));
    $menu.toggleClass('show', open);
    $parent.toggleClass('show', open);
    $(this).attr('aria-expanded', String(open));
  });
  $(document).on('click', (e) => {
    if ($(e.target).closest('[data-toggle="dropdown"]').length) return;
    close_all();
  });
}
