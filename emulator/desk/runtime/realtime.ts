/**
 * `frappe.realtime` (alias `frappe.socketio`): the desk's Socket.IO client as in
 * frappe/public/js/frappe/socketio_client.js [v15] — one socket to
 * `window.location.origin + "/" + frappe.boot.sitename` (path `/socket.io`, the session cookie
 * rides along), `withCredentials`, `reconnectionAttempts: 3`; `doc_subscribe` throttled to one
 * per second and de-duplicated per `doctype:name`; forms subscribe on `form-load`, open on
 * `form-refresh`, close on `form-unload`; `msgprint` events are shown.
 *
 * One deviation: `transports: ["websocket"]`. A browser sends no `Origin` on a same-origin
 * polling GET, and the realtime server's handshake requires `Origin` to match `Host`
 * (realtime/middlewares/authenticate.js); on a production bench the nginx in front of
 * `/socket.io` supplies it, which the emulator (one port, no proxy) cannot. A websocket
 * handshake always carries `Origin`.
 */
import $ from 'jquery';
import { io, type Socket } from 'socket.io-client';
import { frappe } from './globals.js';

class RealTimeClient {
  socket: Socket | null = null;
  open_tasks: Record<string, any> = {};
  open_docs = new Set<string>();
  lazy_connect = false;

  on(event: string, callback: (...args: any[]) => void): void {
    if (this.socket) {
      this.connect();
      this.socket.on(event, callback);
    }
  }

  off(event: string, callback?: (...args: any[]) => void): void {
    if (this.socket) this.socket.off(event, callback);
  }

  connect(): void {
    if (this.lazy_connect && this.socket) {
      this.socket.connect();
      this.lazy_connect = false;
    }
  }

  emit(event: string, ...args: unknown[]): void {
    this.connect();
    this.socket?.emit(event, ...args);
  }

  get_host(): string {
    return `${window.location.origin}/${frappe.boot.sitename}`;
  }

  init(lazy_connect = false): void {
    if (frappe.boot.disable_async || this.socket) return;
    this.lazy_connect = lazy_connect;
    this.socket = io(this.get_host(), {
      withCredentials: true,
      reconnectionAttempts: 3,
      autoConnect: !lazy_connect,
      transports: ['websocket'],
    });
    this.socket.on('connect_error', (err: Error) => {
      console.error('Error connecting to socket.io:', err.message);
    });
    this.socket.on('msgprint', (message: unknown) => frappe.msgprint(message));
    this.socket.on('progress', (data: any) => {
      if (data?.percent) frappe.show_alert({ message: `${data.title || 'Progress'}: ${Math.round(data.percent)}%` });
    });
    $(document).on('form-load form-rename', (_e, frm) => {
      if (!frm.doc || frm.is_new()) return;
      this.doc_subscribe(frm.doctype, frm.docname);
    });
    $(document).on('form-refresh', (_e, frm) => {
      if (!frm.doc || frm.is_new()) return;
      this.doc_open(frm.doctype, frm.docname);
    });
    $(document).on('form-unload', (_e, frm) => {
      if (!frm.doc || frm.is_new()) return;
      this.doc_close(frm.doctype, frm.docname);
    });
  }

  subscribe(task_id: string, opts: unknown): void {
    this.emit('task_subscribe', task_id);
    this.emit('progress_subscribe', task_id);
    this.open_tasks[task_id] = opts;
  }

  task_subscribe(task_id: string): void {
    this.emit('task_subscribe', task_id);
  }

  task_unsubscribe(task_id: string): void {
    this.emit('task_unsubscribe', task_id);
  }

  doctype_subscribe(doctype: string): void {
    this.emit('doctype_subscribe', doctype);
  }

  doctype_unsubscribe(doctype: string): void {
    this.emit('doctype_unsubscribe', doctype);
  }

  doc_subscribe(doctype: string, docname: string): void {
    if (frappe.flags.doc_subscribe) {
      console.log('throttled');
      return;
    }
    if (this.open_docs.has(`${doctype}:${docname}`)) return;
    frappe.flags.doc_subscribe = true;
    window.setTimeout(() => {
      frappe.flags.doc_subscribe = false;
    }, 1000);
    this.emit('doc_subscribe', doctype, docname);
    this.open_docs.add(`${doctype}:${docname}`);
  }

  doc_unsubscribe(doctype: string, docname: string): boolean {
    this.emit('doc_unsubscribe', doctype, docname);
    return this.open_docs.delete(`${doctype}:${docname}`);
  }

  doc_open(doctype: string, docname: string): void {
    this.emit('doc_open', doctype, docname);
  }

  doc_close(doctype: string, docname: string): void {
    this.emit('doc_close', doctype, docname);
  }

  publish(event: string, message: unknown): void {
    if (this.socket) this.emit(event, message);
  }
}

export function install_realtime(): void {
  frappe.flags ??= {};
  frappe.realtime = new RealTimeClient();
  frappe.socketio = frappe.realtime;
}
