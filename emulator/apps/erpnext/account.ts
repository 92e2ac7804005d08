/**
 * The Account controller (frappe/erpnext [v15] erpnext/accounts/doctype/account/account.py), as far
 * as a shop sync meets it: the name "<number> - <account name> - <company abbr>"
 * (`get_account_autoname` / erpnext/accounts/utils.py `get_autoname_with_number`), the parent
 * checks of `validate_parent`, the account-number clash of `validate_field_number`, root and report
 * type inherited from the parent (`set_root_and_report_type`), `validate_mandatory` and the
 * currency default of `validate_account_currency`. The nested set (lft/rgt), frozen accounts, GL
 * balances and child-company syncing are not emulated (README).
 */
import type { Doc } from '../../core/database.js';
import { findName, registerHook, type Ctx } from '../../core/document.js';
import { FrappeError } from '../../core/errors.js';

function throwValidation(message: string): never {
  throw new FrappeError('ValidationError', { message, excText: message });
}

function accountAutoname(ctx: Ctx, doc: Doc): string {
  const companyName = findName(ctx.site, 'Company', doc.company);
  const company = companyName ? ctx.site.db.get('Company', companyName) : undefined;
  // get_account_autoname: "Company {0} does not exist" formats the (empty) lookup result.
  if (!company) throwValidation('Company None does not exist');
  const parts = [String(doc.account_name ?? '').trim(), String(company.abbr ?? '')];
  const number = String(doc.account_number ?? '').trim();
  if (number) parts.unshift(number);
  return parts.join(' - ');
}

export function registerAccount(): void {
  registerHook('Account', 'autoname', ({ ctx, doc }) => {
    doc.name = accountAutoname(ctx, doc);
  });

  registerHook('Account', 'validate', ({ ctx, doc }) => {
    const name = String(doc.name);
    // validate_parent
    if (doc.parent_account) {
      const parentName = findName(ctx.site, 'Account', doc.parent_account);
      const parent = parentName ? ctx.site.db.get('Account', parentName) : undefined;
      if (!parent) throwValidation(`Account ${name}: Parent account ${doc.parent_account} does not exist`);
      else if (parent.name === name) throwValidation(`Account ${name}: You can not assign itself as parent account`);
      else if (!Number(parent.is_group ?? 0)) throwValidation(`Account ${name}: Parent account ${doc.parent_account} can not be a ledger`);
      else if (parent.company !== doc.company) {
        throwValidation(`Account ${name}: Parent account ${doc.parent_account} does not belong to company: ${doc.company}`);
      }
    }
    // validate_field_number("Account", name, account_number, company, "account_number")
    const number = String(doc.account_number ?? '').trim();
    if (number) {
      const clash = ctx.site.db.all('Account').find((a) => a.name !== name && String(a.account_number ?? '') === number && a.company === doc.company);
      if (clash) throwValidation(`Account Number ${number} is already used in account ${clash.name}`);
    }
    // set_root_and_report_type
    if (doc.parent_account) {
      const parent = ctx.site.db.get('Account', String(findName(ctx.site, 'Account', doc.parent_account)));
      if (parent?.report_type) doc.report_type = parent.report_type;
      if (parent?.root_type) doc.root_type = parent.root_type;
    }
    if (doc.root_type && !doc.report_type) {
      doc.report_type = ['Asset', 'Liability', 'Equity'].includes(String(doc.root_type)) ? 'Balance Sheet' : 'Profit and Loss';
    }
    // validate_mandatory
    if (!doc.root_type) throwValidation('Root Type is mandatory');
    if (!doc.report_type) throwValidation('Report Type is mandatory');
    // validate_account_currency
    if (!doc.account_currency && doc.company) {
      doc.account_currency = ctx.site.db.get('Company', String(doc.company))?.default_currency ?? null;
    }
  });
}
