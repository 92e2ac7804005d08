/**
 * `frappe.core.doctype.communication.email.make` (frappe/frappe:frappe/core/doctype/communication/
 * email.py [v15]), the whitelisted method the desk's composer and CRM's CommunicationArea.vue send
 * mail with:
 * - with a reference document (`doctype` and `name`), the caller needs `email` permission on it
 *   (`frappe.has_permission(doctype, "email", name)`), else `PermissionError` "You are not allowed
 *   to send emails related to: <doctype> <name>" (raised, not thrown: no message box); without
 *   one, no permission check at all;
 * - `_make` inserts the Communication with `ignore_permissions=True` (sender defaulting to the
 *   session user's formatted address, list recipients joined with ", "), and a Communication with
 *   no reference is made to reference itself (`db_set` of reference_doctype/reference_name);
 * - with `send_email` set, the mail is queued (Communication.send_email → frappe.sendmail → an
 *   Email Queue with one Email Queue Recipient per address, status "Not Sent"); the emulator has
 *   no Email Account and no worker, so the queue is where tests read what was sent;
 * - the answer is `{name, emails_not_sent_to}`.
 */
import type { Doc } from '../../core/database.js';
import { dbSet } from '../../core/db_set.js';
import { insertDoc, requireMeta } from '../../core/document.js';
import { FrappeError, doesNotExist } from '../../core/errors.js';
import { generateHash } from '../../core/naming.js';
import { hasPermission } from '../../core/permissions.js';
import type { MethodDef } from '../../http/method_def.js';

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** `list_to_str` of a list argument; a string (JSON list or comma text) as given. */
function addresses(v: unknown): string {
  if (Array.isArray(v)) return v.map(str).join(', ');
  const s = str(v);
  if (s.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(s);
      if (Array.isArray(list)) return list.map(str).join(', ');
    } catch {
      /* not JSON: the text itself */
    }
  }
  return s;
}

/** `frappe.utils.split_emails`: comma/semicolon/newline separated, trimmed, empties dropped. */
const splitEmails = (s: string): string[] => s.split(/[,;\n]/).map((e) => e.trim()).filter(Boolean);

/** cint of a form value. */
const cint = (v: unknown): number => (v === true ? 1 : Number.parseInt(str(v), 10) || 0);

export const EMAIL_METHODS: Record<string, MethodDef> = {
  'frappe.core.doctype.communication.email.make': {
    run: ({ ctx, form }) => {
      const doctype = str(form.doctype);
      const name = str(form.name);
      if (doctype && name) {
        const ref = ctx.site.db.get(doctype, name);
        if (!ref) throw doesNotExist(doctype, name);
        if (!hasPermission(ctx.site, doctype, 'email', ctx.user, ref)) {
          throw new FrappeError('PermissionError', { excText: `You are not allowed to send emails related to: ${doctype} ${name}` });
        }
      }
      let sender = str(form.sender);
      if (!sender) {
        // get_formatted_email(session user): "Full Name <email>".
        const user = ctx.site.db.get('User', ctx.user);
        const email = str(user?.email) || ctx.user;
        const full = str(user?.full_name);
        sender = full ? `${full} <${email}>` : email;
      }
      const recipients = addresses(form.recipients);
      const cc = addresses(form.cc);
      const bcc = addresses(form.bcc);
      const comm = insertDoc(
        ctx,
        {
          doctype: 'Communication',
          subject: str(form.subject),
          content: str(form.content),
          sender,
          sender_full_name: form.sender_full_name ?? null,
          recipients: recipients || null,
          cc: cc || null,
          bcc: bcc || null,
          communication_medium: str(form.communication_medium) || 'Email',
          sent_or_received: str(form.sent_or_received) || 'Sent',
          reference_doctype: doctype || null,
          reference_name: name || null,
          message_id: `${generateHash(20)}@example.com`,
          read_receipt: cint(form.read_receipt),
          has_attachment: 0,
          communication_type: str(form.communication_type) || 'Communication',
        },
        { ignorePermissions: true },
      );
      if (!doctype) dbSet(ctx, requireMeta(ctx.site, 'Communication'), comm, { reference_doctype: 'Communication', reference_name: comm.name });
      const send = cint(form.send_email) === 1;
      if (send) {
        const to = [...splitEmails(recipients), ...splitEmails(cc), ...splitEmails(bcc)];
        const queue: Doc = {
          doctype: 'Email Queue',
          sender,
          message: str(form.content),
          status: 'Not Sent',
          message_id: comm.message_id,
          reference_doctype: doctype || 'Communication',
          reference_name: name || comm.name,
          communication: comm.name,
          show_as_cc: cc || null,
          recipients: [...new Set(to)].map((recipient) => ({ recipient, status: 'Not Sent' })),
        };
        insertDoc(ctx, queue, { ignorePermissions: true });
      }
      return { name: comm.name, emails_not_sent_to: send ? '' : null };
    },
  },
};
