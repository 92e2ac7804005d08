// Mirrors frappe/crm:crm/fcrm/doctype/crm_service_level_agreement/crm_service_level_agreement.py
// (apply, calc_time, calc_elapsed_time; v1.52.1: first response only, no rolling responses), .../crm_service_level_agreement/utils.py
// (get_sla) and crm/fcrm/doctype/crm_lead/crm_lead.py (set_sla / apply_sla).
import { describe, it, expect } from 'vitest';
import {
  applyCrmSla,
  crmCalcElapsedTime,
  crmCalcTime,
  selectCrmSla,
  setCrmSla,
  type CrmSlaRecord,
  type HolidayListRecord,
} from '../../emulator/apps/crm/sla.js';
import { SafeEvalError } from '../../emulator/apps/safe_eval.js';
import { formatDatetime, parseDatetime, startOfDay, weekdayName } from '../../emulator/core/datetime.js';

// 2024-01-01 is a Monday.
const t = (text: string) => {
  const us = parseDatetime(text);
  if (us === null) throw new Error(`bad datetime ${text}`);
  return us;
};

const workweek = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'].map((workday) => ({
  workday,
  start_time: '9:00:00',
  end_time: '17:00:00',
}));

function makeSla(overrides: Partial<CrmSlaRecord> = {}): CrmSlaRecord {
  return {
    name: 'Lead SLA',
    sla_name: 'Lead SLA',
    apply_on: 'CRM Lead',
    enabled: 1,
    default: 0,
    condition: null,
    start_date: null,
    end_date: null,
    holiday_list: null,
    priorities: [
      { priority: 'Open', first_response_time: 3600, default_priority: 1 },
      { priority: 'Replied', first_response_time: 7200, default_priority: 0 },
    ],
    working_hours: workweek,
    ...overrides,
  };
}

const holidays: HolidayListRecord = {
  name: 'Holidays 2024',
  holidays: [{ date: '2024-01-08', description: 'Company day' }],
};

type Doc = Record<string, unknown>;

function newLead(fields: Doc = {}): Doc {
  return {
    doctype: 'CRM Lead',
    name: 'CRM-LEAD-2024-00001',
    first_name: 'Jane',
    communication_status: 'Open',
    sla: 'Lead SLA',
    sla_creation: null,
    sla_status: null,
    response_by: null,
    first_responded_on: null,
    first_response_time: null,
    ...fields,
  };
}

/** One save: before_save's apply_sla on a copy, given the stored row (null on insert). */
function save(stored: Doc | null, changes: Doc, sla: CrmSlaRecord, now: string, list: HolidayListRecord | null = null): Doc {
  const doc = structuredClone({ ...(stored ?? newLead()), ...changes });
  applyCrmSla(doc, stored, sla, list, t(now));
  return doc;
}

describe('calc_time (crm_service_level_agreement.py)', () => {
  const sla = makeSla();
  const calc = (start: string, seconds: number, s: CrmSlaRecord = sla, list: HolidayListRecord | null = null) =>
    formatDatetime(crmCalcTime(s, list, t(start), seconds));

  it('adds working time within a day', () => {
    expect(calc('2024-01-01 10:00:00', 3600)).toBe('2024-01-01 11:00:00');
  });

  it('waits for opening time when started before it', () => {
    expect(calc('2024-01-01 07:00:00', 3600)).toBe('2024-01-01 10:00:00');
  });

  it('skips the night', () => {
    expect(calc('2024-01-01 16:30:00', 3600)).toBe('2024-01-02 09:30:00');
  });

  it('skips the weekend', () => {
    expect(calc('2024-01-05 16:00:00', 7200)).toBe('2024-01-08 10:00:00');
  });

  it('skips holidays of the SLA holiday list', () => {
    const withList = makeSla({ holiday_list: 'Holidays 2024' });
    expect(calc('2024-01-05 16:00:00', 7200, withList, holidays)).toBe('2024-01-09 10:00:00');
    // The list only counts when the SLA links one (get_holidays reads self.holiday_list).
    expect(calc('2024-01-05 16:00:00', 7200, sla, holidays)).toBe('2024-01-08 10:00:00');
  });

  it('keeps the time of day when stepping over a non-working day (add_to_date(days=1))', () => {
    // Saturday 15:00 → Sunday 15:00 → Monday 15:00, then one hour of Monday.
    expect(calc('2024-01-06 15:00:00', 3600)).toBe('2024-01-08 16:00:00');
  });

  it('keeps microseconds and returns the start for a zero duration', () => {
    expect(calc('2024-01-01 10:00:00.500000', 60)).toBe('2024-01-01 10:01:00.500000');
    expect(calc('2024-01-06 15:00:00', 0)).toBe('2024-01-06 15:00:00');
  });
});

describe('calc_elapsed_time (crm_service_level_agreement.py)', () => {
  const sla = makeSla({ holiday_list: 'Holidays 2024' });

  /** The source's literal one-second loop, to check the per-day count against. */
  function bruteForce(start: number, end: number, list: HolidayListRecord | null): number {
    const holidaySet = new Set((list?.holidays ?? []).map((h) => t(h.date as string)));
    let total = 0;
    for (let cur = start; cur < end; cur += 1_000_000) {
      const day = weekdayName(cur);
      const row = workweek.find((r) => r.workday === day);
      if (holidaySet.has(startOfDay(cur)) || !row) continue;
      const sod = Math.floor((cur - startOfDay(cur)) / 1_000_000);
      if (9 * 3600 <= sod && sod < 17 * 3600) total++;
    }
    return total;
  }

  it('counts only working seconds', () => {
    expect(crmCalcElapsedTime(sla, null, t('2024-01-01 10:00:00'), t('2024-01-01 12:00:00'))).toBe(7200);
    expect(crmCalcElapsedTime(sla, null, t('2024-01-05 16:00:00'), t('2024-01-08 10:00:00'))).toBe(7200);
    expect(crmCalcElapsedTime(sla, holidays, t('2024-01-05 16:00:00'), t('2024-01-08 10:00:00'))).toBe(3600);
    expect(crmCalcElapsedTime(sla, null, t('2024-01-01 12:00:00'), t('2024-01-01 10:00:00'))).toBe(0);
  });

  it('steps whole seconds from the start instant, like the source loop', () => {
    expect(crmCalcElapsedTime(sla, null, t('2024-01-01 10:00:00.5'), t('2024-01-01 10:00:02'))).toBe(2);
    expect(crmCalcElapsedTime(sla, null, t('2024-01-01 10:00:00.5'), t('2024-01-01 10:00:02.6'))).toBe(3);
    expect(crmCalcElapsedTime(sla, null, t('2024-01-01 16:59:59.5'), t('2024-01-01 17:00:05'))).toBe(1);
  });

  it('matches the one-second loop on assorted spans', () => {
    const spans: [string, string][] = [
      ['2024-01-05 16:59:30.250000', '2024-01-08 09:00:10.900000'],
      ['2024-01-07 23:00:00', '2024-01-09 09:30:00'],
      ['2024-01-02 08:59:59.999999', '2024-01-02 09:00:03'],
      ['2024-01-03 17:00:00', '2024-01-04 08:00:00'],
    ];
    for (const [a, b] of spans) {
      expect(crmCalcElapsedTime(sla, holidays, t(a), t(b))).toBe(bruteForce(t(a), t(b), holidays));
    }
  });
});

describe('get_sla (crm_service_level_agreement/utils.py)', () => {
  const now = t('2024-01-01 10:00:00');

  it('picks the first SLA whose condition holds; an empty condition always matches', () => {
    const ads = makeSla({ name: 'Ads SLA', condition: "doc.source == 'Ads'" });
    const fallback = makeSla({ name: 'Any SLA' });
    expect(selectCrmSla(newLead({ source: 'Ads' }), [ads, fallback], now)).toBe('Ads SLA');
    expect(selectCrmSla(newLead({ source: 'Web' }), [ads, fallback], now)).toBe('Any SLA');
    expect(selectCrmSla(newLead({ source: 'Web' }), [ads], now)).toBeNull();
  });

  it('keeps only SLAs with a priority row for the current communication status', () => {
    const repliedOnly = makeSla({
      name: 'Replied SLA',
      priorities: [{ priority: 'Replied', first_response_time: 60, default_priority: 1 }],
    });
    const openToo = makeSla({ name: 'Open SLA' });
    expect(selectCrmSla(newLead(), [repliedOnly, openToo], now)).toBe('Open SLA');
    expect(selectCrmSla(newLead({ communication_status: 'Replied' }), [repliedOnly, openToo], now)).toBe('Replied SLA');
    // No status: no join, every SLA is a candidate.
    expect(selectCrmSla(newLead({ communication_status: null }), [repliedOnly, openToo], now)).toBe('Replied SLA');
  });

  it('filters by apply_on, enabled and the date window (end date ends at its midnight)', () => {
    const deal = makeSla({ name: 'Deal SLA', apply_on: 'CRM Deal' });
    const off = makeSla({ name: 'Off SLA', enabled: 0 });
    const endsToday = makeSla({ name: 'Ends Today', end_date: '2024-01-01' });
    const startsToday = makeSla({ name: 'Starts Today', start_date: '2024-01-01' });
    expect(selectCrmSla(newLead(), [deal, off, endsToday, startsToday], now)).toBe('Starts Today');
    expect(selectCrmSla(newLead(), [endsToday], t('2024-01-01 00:00:00'))).toBe('Ends Today');
    expect(selectCrmSla(newLead(), [startsToday], t('2023-12-31 23:59:59'))).toBeNull();
  });

  it('does not move the default SLA last: the query never selects `default`', () => {
    const dflt = makeSla({ name: 'Default SLA', default: 1 });
    const specific = makeSla({ name: 'Specific SLA', condition: "doc.source == 'Ads'" });
    expect(selectCrmSla(newLead({ source: 'Ads' }), [dflt, specific], now)).toBe('Default SLA');
  });

  it('lets condition errors abort, as the save would', () => {
    const broken = makeSla({ condition: 'doc.annual_revenue > 1000' });
    expect(() => selectCrmSla(newLead({ annual_revenue: null }), [broken], now)).toThrowError(SafeEvalError);
  });

  it('set_sla is sticky and clears first-response fields when nothing matches (crm_lead.py)', () => {
    const lead = newLead({ sla: null, first_responded_on: '2024-01-01 09:00:00', first_response_time: 5 });
    expect(setCrmSla(lead, [], now)).toBe(false);
    expect(lead.first_responded_on).toBeNull();
    expect(lead.first_response_time).toBeNull();
    const stuck = newLead({ sla: 'Old SLA', source: 'Web' });
    expect(setCrmSla(stuck, [makeSla({ name: 'New SLA' })], now)).toBe(true);
    expect(stuck.sla).toBe('Old SLA');
    const fresh = newLead({ sla: null });
    expect(setCrmSla(fresh, [makeSla({ name: 'New SLA' })], now)).toBe(true);
    expect(fresh.sla).toBe('New SLA');
  });
});

describe('apply (crm_service_level_agreement.py)', () => {
  const sla = makeSla();

  it('on insert: stamps creation, response_by from working hours, First Response Due', () => {
    const lead = save(null, {}, sla, '2024-01-01 16:30:00');
    expect(lead.sla_creation).toBe('2024-01-01 16:30:00');
    expect(lead.response_by).toBe('2024-01-02 09:30:00');
    expect(lead.sla_status).toBe('First Response Due');
    expect(lead.first_responded_on).toBeNull();
  });

  it('First Response Due turns Failed on the first save after response_by', () => {
    const created = save(null, {}, sla, '2024-01-01 10:00:00');
    expect(created.response_by).toBe('2024-01-01 11:00:00');
    const before = save(created, {}, sla, '2024-01-01 10:59:59');
    expect(before.sla_status).toBe('First Response Due');
    const after = save(created, {}, sla, '2024-01-01 11:00:01');
    expect(after.sla_status).toBe('Failed');
    expect(after.response_by).toBe('2024-01-01 11:00:00');
  });

  it('Open → Replied before response_by is Fulfilled, with the working-time first response', () => {
    const created = save(null, {}, sla, '2024-01-01 10:00:00');
    const replied = save(created, { communication_status: 'Replied' }, sla, '2024-01-01 10:30:00');
    expect(replied.first_responded_on).toBe('2024-01-01 10:30:00');
    expect(replied.first_response_time).toBe(1800);
    expect(replied.response_by).toBe('2024-01-01 11:00:00');
    expect(replied.sla_status).toBe('Fulfilled');
    // CRM v1.52.1 keeps no per-response log (recording set-value: no rolling_responses / last_* fields).
    for (const field of ['rolling_responses', 'last_responded_on', 'last_response_time']) expect(replied).not.toHaveProperty(field);
  });

  it('a reply after response_by is Failed, and stays Failed on later saves', () => {
    const created = save(null, {}, sla, '2024-01-05 16:30:00');
    expect(created.response_by).toBe('2024-01-08 09:30:00');
    const late = save(created, { communication_status: 'Replied' }, sla, '2024-01-08 10:00:00');
    expect(late.sla_status).toBe('Failed');
    // Fri 16:30–17:00 and Mon 09:00–10:00.
    expect(late.first_response_time).toBe(5400);
    const later = save(late, {}, sla, '2024-01-09 10:00:00');
    expect(later.sla_status).toBe('Failed');
  });

  it('only a change of communication_status counts as a response', () => {
    const created = save(null, {}, sla, '2024-01-01 10:00:00');
    const touched = save(created, { first_name: 'Janet' }, sla, '2024-01-01 10:30:00');
    expect(touched.first_responded_on).toBeNull();
    expect(touched.sla_status).toBe('First Response Due');
    // A status set on insert is not a response either (handle_communication_status skips new docs).
    const insertedReplied = save(null, { communication_status: 'Replied' }, sla, '2024-01-01 10:00:00');
    expect(insertedReplied.first_responded_on).toBeNull();
    expect(insertedReplied.response_by).toBe('2024-01-01 12:00:00');
  });

  it('holidays push response_by and count as non-working in the response time', () => {
    const withList = makeSla({ holiday_list: 'Holidays 2024' });
    const created = save(null, {}, withList, '2024-01-05 16:30:00', holidays);
    expect(created.response_by).toBe('2024-01-09 09:30:00');
    const replied = save(created, { communication_status: 'Replied' }, withList, '2024-01-09 09:15:00', holidays);
    expect(replied.first_response_time).toBe(1800 + 900);
    expect(replied.sla_status).toBe('Fulfilled');
  });
});

describe('after the first response (CRM v1.52.1 has no rolling responses)', () => {
  const sla = makeSla();

  it('a customer writing again restarts nothing: response_by, first response and Fulfilled stay', () => {
    const created = save(null, {}, sla, '2024-01-01 10:00:00');
    const firstReply = save(created, { communication_status: 'Replied' }, sla, '2024-01-01 10:30:00');
    const customerAgain = save(firstReply, { communication_status: 'Open' }, sla, '2024-01-01 13:00:00');
    expect(customerAgain.response_by).toBe('2024-01-01 11:00:00');
    expect(customerAgain.first_responded_on).toBe('2024-01-01 10:30:00');
    expect(customerAgain.first_response_time).toBe(1800);
    expect(customerAgain.sla_status).toBe('Fulfilled');
    const resaved = save(customerAgain, {}, sla, '2024-01-02 16:30:00');
    expect(resaved.response_by).toBe('2024-01-01 11:00:00');
    expect(resaved.sla_status).toBe('Fulfilled');
  });
});
