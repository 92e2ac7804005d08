// Mirrors frappe/helpdesk:helpdesk/helpdesk/doctype/hd_service_level_agreement/hd_service_level_agreement.py
// (apply: handle_new, handle_doc_status, handle_targets, handle_agreement_status; calc_time;
// calc_elapsed_time), .../hd_service_level_agreement/utils.py (get_sla, get_default) and
// helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py (set_sla / apply_sla).
import { describe, it, expect } from 'vitest';
import {
  applyHdSla,
  handleAgreementStatus,
  hdCalcElapsedTime,
  hdCalcTime,
  selectHdSla,
  type HdHolidayListRecord,
  type HdSlaRecord,
} from '../../emulator/apps/helpdesk/sla.js';
import { FrappeError } from '../../emulator/core/errors.js';
import { formatDatetime, parseDatetime } from '../../emulator/core/datetime.js';

// 2024-01-01 is a Monday.
const t = (text: string) => {
  const us = parseDatetime(text);
  if (us === null) throw new Error(`bad datetime ${text}`);
  return us;
};
const H = 3600;

/** helpdesk/setup/install.py's "Default" SLA: Mon–Fri 10:00–18:00. */
function makeSla(overrides: Partial<HdSlaRecord> = {}): HdSlaRecord {
  return {
    name: 'Default',
    service_level: 'Default',
    enabled: 1,
    default_sla: 1,
    condition: null,
    start_date: null,
    end_date: null,
    holiday_list: null,
    apply_sla_for_resolution: 1,
    default_priority: 'Medium',
    priorities: [
      { priority: 'Low', response_time: 24 * H, resolution_time: 72 * H, default_priority: 0 },
      { priority: 'Medium', response_time: 8 * H, resolution_time: 24 * H, default_priority: 1 },
      { priority: 'High', response_time: 1 * H, resolution_time: 4 * H, default_priority: 0 },
      { priority: 'Urgent', response_time: 0.5 * H, resolution_time: 2 * H, default_priority: 0 },
    ],
    support_and_resolution: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'].map((workday) => ({
      workday,
      start_time: '10:00:00',
      end_time: '18:00:00',
    })),
    ...overrides,
  };
}

const holidays: HdHolidayListRecord = {
  name: 'Support Holidays',
  holidays: [{ holiday_date: '2024-01-02', description: 'Closed' }],
};

type Doc = Record<string, unknown>;

const CATEGORY: Record<string, string> = { Open: 'Open', Replied: 'Paused', Resolved: 'Resolved', Closed: 'Resolved' };

function newTicket(fields: Doc = {}): Doc {
  return {
    doctype: 'HD Ticket',
    name: '1',
    subject: 'Printer on fire',
    status: 'Open',
    status_category: 'Open',
    priority: null,
    customer: null,
    sla: 'Default',
    agreement_status: null,
    service_level_agreement_creation: null,
    response_by: null,
    resolution_by: null,
    first_responded_on: null,
    first_response_time: null,
    resolution_date: null,
    resolution_time: null,
    on_hold_since: null,
    total_hold_time: null,
    ...fields,
  };
}

/** One save: apply_sla on a copy given the stored row; status_category follows the status. */
function save(stored: Doc | null, changes: Doc, sla: HdSlaRecord, now: string, list: HdHolidayListRecord | null = null): Doc {
  const doc = structuredClone({ ...(stored ?? newTicket()), ...changes });
  doc.status_category = CATEGORY[String(doc.status)];
  applyHdSla(doc, stored, sla, list, t(now));
  return doc;
}

describe('calc_time (hd_service_level_agreement.py)', () => {
  const sla = makeSla();
  const calc = (start: string, priority: string, target: 'response_time' | 'resolution_time', hold = 0, list: HdHolidayListRecord | null = null, s = sla) =>
    formatDatetime(hdCalcTime(s, list, t(start), priority, target, hold));

  it('walks working hours across nights and weekends', () => {
    expect(calc('2024-01-01 11:00:00', 'High', 'response_time')).toBe('2024-01-01 12:00:00');
    expect(calc('2024-01-01 11:00:00', 'Medium', 'response_time')).toBe('2024-01-02 11:00:00');
    expect(calc('2024-01-01 11:00:00', 'Medium', 'resolution_time')).toBe('2024-01-04 11:00:00');
    expect(calc('2024-01-05 17:00:00', 'High', 'resolution_time')).toBe('2024-01-08 13:00:00');
  });

  it('jumps to midnight over non-working days (unlike CRM, which keeps the time of day)', () => {
    expect(calc('2024-01-06 15:00:00', 'High', 'response_time')).toBe('2024-01-08 11:00:00');
  });

  it('skips holidays of the linked holiday list', () => {
    const withList = makeSla({ holiday_list: 'Support Holidays' });
    expect(calc('2024-01-01 17:30:00', 'High', 'response_time', 0, holidays, withList)).toBe('2024-01-03 10:30:00');
    expect(calc('2024-01-01 17:30:00', 'High', 'response_time', 0, holidays)).toBe('2024-01-02 10:30:00');
  });

  it('adds hold time to resolution targets only', () => {
    expect(calc('2024-01-01 11:00:00', 'High', 'resolution_time', 2 * H)).toBe('2024-01-01 17:00:00');
    expect(calc('2024-01-01 11:00:00', 'High', 'response_time', 2 * H)).toBe('2024-01-01 12:00:00');
  });

  it('throws for a priority the SLA lacks', () => {
    expect(() => calc('2024-01-01 11:00:00', 'Critical', 'response_time')).toThrowError(
      'Please add Critical priority in Default SLA',
    );
  });
});

describe('calc_elapsed_time (hd_service_level_agreement.py, per-day version)', () => {
  const sla = makeSla({ holiday_list: 'Support Holidays' });

  it('sums working seconds day by day, skipping holidays and weekends', () => {
    expect(hdCalcElapsedTime(sla, null, t('2024-01-01 12:00:00'), t('2024-01-02 12:00:00'))).toBe(8 * H);
    expect(hdCalcElapsedTime(sla, holidays, t('2024-01-01 12:00:00'), t('2024-01-03 12:00:00'))).toBe(8 * H);
    expect(hdCalcElapsedTime(sla, null, t('2024-01-05 17:00:00'), t('2024-01-08 11:00:00'))).toBe(2 * H);
    expect(hdCalcElapsedTime(sla, null, t('2024-01-06 09:00:00'), t('2024-01-07 20:00:00'))).toBe(0);
  });

  it('drops microseconds of the ends', () => {
    expect(hdCalcElapsedTime(sla, null, t('2024-01-01 11:00:00.900000'), t('2024-01-01 11:00:02.100000'))).toBe(2);
  });
});

describe('get_sla / get_default (hd_service_level_agreement/utils.py)', () => {
  const now = t('2024-01-01 11:00:00');
  const dflt = makeSla();
  const vip = makeSla({
    name: 'VIP',
    default_sla: 0,
    condition: "doc.customer == 'ACME'",
    priorities: makeSla().priorities.filter((p) => p.priority !== 'Low'),
  });

  it('prefers a matching non-default SLA, else the default', () => {
    expect(selectHdSla(newTicket({ customer: 'ACME', priority: 'High' }), [dflt, vip], now)).toBe('VIP');
    expect(selectHdSla(newTicket({ customer: 'Globex', priority: 'High' }), [dflt, vip], now)).toBe('Default');
  });

  it('needs a priority row for the ticket priority', () => {
    expect(selectHdSla(newTicket({ customer: 'ACME', priority: 'Low' }), [dflt, vip], now)).toBe('Default');
    expect(selectHdSla(newTicket({ customer: 'ACME', priority: null }), [dflt, vip], now)).toBe('VIP');
  });

  it('treats an empty condition on a non-default SLA as a match', () => {
    const catchAll = makeSla({ name: 'Catch-all', default_sla: 0, condition: '' });
    expect(selectHdSla(newTicket({ priority: 'High' }), [dflt, catchAll], now)).toBe('Catch-all');
  });

  it('skips disabled SLAs and those outside their dates', () => {
    const disabled = makeSla({ name: 'Disabled', default_sla: 0, enabled: 0 });
    const future = makeSla({ name: 'Future', default_sla: 0, start_date: '2024-01-02' });
    const ended = makeSla({ name: 'Ended', default_sla: 0, end_date: '2024-01-01' });
    expect(selectHdSla(newTicket({ priority: 'High' }), [disabled, future, ended, dflt], now)).toBe('Default');
  });

  it('takes the most recently created default, and raises DoesNotExistError without one', () => {
    const newerDefault = makeSla({ name: 'Newer Default' });
    expect(selectHdSla(newTicket({ priority: 'High' }), [dflt, newerDefault], now)).toBe('Newer Default');
    let err: unknown = null;
    try {
      selectHdSla(newTicket({ customer: 'Globex', priority: 'High' }), [vip], now);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrappeError);
    expect((err as FrappeError).excType).toBe('DoesNotExistError');
    expect((err as FrappeError).httpStatus).toBe(404);
  });
});

describe('apply (hd_service_level_agreement.py)', () => {
  const sla = makeSla();

  it('on insert: clock start, default priority, both targets, First Response Due', () => {
    const ticket = save(null, {}, sla, '2024-01-01 11:00:00');
    expect(ticket.service_level_agreement_creation).toBe('2024-01-01 11:00:00');
    expect(ticket.priority).toBe('Medium');
    expect(ticket.response_by).toBe('2024-01-02 11:00:00');
    expect(ticket.resolution_by).toBe('2024-01-04 11:00:00');
    expect(ticket.agreement_status).toBe('First Response Due');
  });

  it('recomputes targets on every save (e.g. after a priority change)', () => {
    const ticket = save(null, {}, sla, '2024-01-01 11:00:00');
    const escalated = save(ticket, { priority: 'High' }, sla, '2024-01-01 11:30:00');
    expect(escalated.response_by).toBe('2024-01-01 12:00:00');
    expect(escalated.resolution_by).toBe('2024-01-01 15:00:00');
  });

  it('First Response Due becomes Failed once response_by has passed', () => {
    const ticket = save(null, { priority: 'Urgent' }, sla, '2024-01-01 11:00:00');
    expect(ticket.response_by).toBe('2024-01-01 11:30:00');
    expect(save(ticket, {}, sla, '2024-01-01 11:29:00').agreement_status).toBe('First Response Due');
    expect(save(ticket, {}, sla, '2024-01-01 11:31:00').agreement_status).toBe('Failed');
  });

  it('reply → pause, customer reply → hold time added, resolve → Fulfilled, close keeps resolution', () => {
    const created = save(null, {}, sla, '2024-01-01 11:00:00');

    // hd_ticket.py set_first_responded_on stamps the reply before apply_sla runs.
    const replied = save(created, { status: 'Replied', first_responded_on: '2024-01-01 12:00:00' }, sla, '2024-01-01 12:00:00');
    expect(replied.first_response_time).toBe(H);
    expect(replied.on_hold_since).toBe('2024-01-01 12:00:00');
    expect(replied.response_by).toBe('2024-01-02 11:00:00');
    expect(replied.resolution_by).toBe('2024-01-04 11:00:00');
    expect(replied.agreement_status).toBe('Paused');

    const reopened = save(replied, { status: 'Open' }, sla, '2024-01-02 12:00:00');
    expect(reopened.on_hold_since).toBeNull();
    // Mon 12:00–18:00 plus Tue 10:00–12:00 of working time on hold.
    expect(reopened.total_hold_time).toBe(8 * H);
    expect(reopened.resolution_by).toBe('2024-01-05 11:00:00');
    expect(reopened.agreement_status).toBe('Resolution Due');

    const resolved = save(reopened, { status: 'Resolved' }, sla, '2024-01-03 12:00:00');
    expect(resolved.resolution_date).toBe('2024-01-03 12:00:00');
    // 17 h of working time minus 8 h on hold.
    expect(resolved.resolution_time).toBe(9 * H);
    expect(resolved.agreement_status).toBe('Fulfilled');

    const closed = save(resolved, { status: 'Closed' }, sla, '2024-01-04 12:00:00');
    expect(closed.resolution_date).toBe('2024-01-03 12:00:00');
    expect(closed.resolution_time).toBe(9 * H);
    expect(closed.agreement_status).toBe('Fulfilled');

    // Reopening a resolved ticket counts the time since resolution as hold time.
    const again = save(resolved, { status: 'Open' }, sla, '2024-01-04 12:00:00');
    expect(again.resolution_date).toBeNull();
    expect(again.total_hold_time).toBe(16 * H);
    expect(again.agreement_status).toBe('Resolution Due');
  });

  it('resolution past resolution_by is Failed', () => {
    const created = save(null, { priority: 'High' }, sla, '2024-01-01 11:00:00');
    const replied = save(created, { status: 'Replied', first_responded_on: '2024-01-01 11:30:00' }, sla, '2024-01-01 11:30:00');
    const reopened = save(replied, { status: 'Open' }, sla, '2024-01-01 11:45:00');
    expect(reopened.resolution_by).toBe('2024-01-01 15:15:00');
    const resolved = save(reopened, { status: 'Resolved' }, sla, '2024-01-01 16:00:00');
    expect(resolved.agreement_status).toBe('Failed');
  });

  it('without apply_sla_for_resolution a first response fulfils the SLA', () => {
    const responseOnly = makeSla({ apply_sla_for_resolution: 0 });
    const created = save(null, {}, responseOnly, '2024-01-01 11:00:00');
    const responded = save(created, { first_responded_on: '2024-01-01 11:10:00' }, responseOnly, '2024-01-01 11:10:00');
    expect(responded.agreement_status).toBe('Fulfilled');
    // The resolution deadline is still computed and can pass without failing anything.
    const muchLater = save(responded, {}, responseOnly, '2024-02-01 11:00:00');
    expect(muchLater.agreement_status).toBe('Fulfilled');
  });
});

describe('handle_agreement_status order (hd_service_level_agreement.py)', () => {
  const sla = makeSla();
  const now = t('2024-01-03 12:00:00');
  const base = {
    response_by: '2024-01-04 11:00:00',
    resolution_by: '2024-01-05 11:00:00',
    first_responded_on: null,
    resolution_date: null,
    on_hold_since: null,
  };
  const status = (fields: Doc) => {
    const ticket: Doc = { ...base, ...fields };
    handleAgreementStatus(ticket, sla, now);
    return ticket.agreement_status;
  };

  it('ranks Paused over Failed over First Response Due over Resolution Due over Fulfilled', () => {
    // Late first response while on hold: the dict's last true entry, Paused, wins.
    expect(status({ response_by: '2024-01-02 11:00:00', first_responded_on: '2024-01-02 12:00:00', on_hold_since: '2024-01-02 12:00:00' })).toBe('Paused');
    expect(status({ response_by: '2024-01-02 11:00:00', first_responded_on: '2024-01-02 12:00:00' })).toBe('Failed');
    expect(status({ response_by: '2024-01-02 11:00:00' })).toBe('Failed');
    expect(status({ on_hold_since: '2024-01-03 11:00:00' })).toBe('Paused');
    expect(status({})).toBe('First Response Due');
    expect(status({ first_responded_on: '2024-01-02 12:00:00' })).toBe('Resolution Due');
    expect(status({ first_responded_on: '2024-01-02 12:00:00', resolution_date: '2024-01-03 11:00:00' })).toBe('Fulfilled');
    expect(status({ first_responded_on: '2024-01-02 12:00:00', resolution_by: '2024-01-03 10:00:00', resolution_date: '2024-01-03 11:00:00' })).toBe('Failed');
  });
});
