/**
 * Frappe CRM's Service Level Agreement, as pure functions over plain documents.
 *
 * Mirrors frappe/crm:
 *   - crm/fcrm/doctype/crm_service_level_agreement/utils.py — `get_sla`, `get_context`
 *   - crm/fcrm/doctype/crm_service_level_agreement/crm_service_level_agreement.py — `apply` and
 *     everything it calls, as of v1.52.1: first response only. Rolling responses (a later CRM
 *     release) are not modelled: the recorded v1.52.1 site has no `rolling_responses` on the SLA
 *     or the lead, nor `last_responded_on` / `last_response_time` (recordings sla-get, set-value).
 *   - crm/fcrm/doctype/crm_lead/crm_lead.py (same in crm_deal.py) — `set_sla` / `apply_sla`
 *
 * Conventions and the helpers both SLA engines share: ../sla_common.ts.
 */
import { MICROS_PER_DAY, MICROS_PER_SECOND, formatDatetime, startOfDay, weekdayName, type Micros } from '../../core/datetime.js';
import { pyTruthy, safeEval } from '../safe_eval.js';
import { conditionNames, getDatetime, hasValueChanged, holidayMidnights, inDateWindow, keyBy, timeSeconds, type Doc } from '../sla_common.js';

/** A `CRM Service Level Priority` row. `priority` links to `CRM Communication Status`. */
export interface CrmSlaPriorityRow {
  priority: string;
  /** Duration, seconds. */
  first_response_time: number | null;
  default_priority?: number | boolean | null;
  [field: string]: unknown;
}

/** A `CRM Service Day` row. */
export interface CrmServiceDayRow {
  workday: string;
  /** Time, 'H:MM:SS'. */
  start_time: string;
  end_time: string;
  [field: string]: unknown;
}

/** A `CRM Service Level Agreement` document with its child tables. */
export interface CrmSlaRecord {
  name: string;
  sla_name?: string | null;
  apply_on: string;
  enabled?: number | boolean | null;
  default?: number | boolean | null;
  condition?: string | null;
  start_date?: string | null;
  end_date?: string | null;
  holiday_list?: string | null;
  priorities: CrmSlaPriorityRow[];
  working_hours: CrmServiceDayRow[];
  [field: string]: unknown;
}

/** A `CRM Holiday List` document; its `holidays` rows (`CRM Holiday`) carry a `date`. */
export interface HolidayListRecord {
  name?: string;
  holidays: { date: string | null; weekly_off?: number | null; description?: string | null; [field: string]: unknown }[];
  [field: string]: unknown;
}

/** `get_holidays`: the `date` of every row of the SLA's holiday list. */
function holidayDays(sla: CrmSlaRecord, holidayList: HolidayListRecord | null): Set<number> {
  if (!sla.holiday_list || !holidayList) return new Set();
  return holidayMidnights((holidayList.holidays ?? []).map((row) => row.date));
}

// ---------------------------------------------------------------------------------------------
// Selection

/**
 * utils.py `get_sla`: candidate SLAs for `doc.doctype` that are enabled and inside their date
 * window; when `doc.communication_status` is set, only those with a priority row for it (the
 * query inner-joins `CRM Service Level Priority`). The first whose condition is empty or truthy
 * wins.
 *
 * `candidates` must be in the order the query returns them (creation order in practice). The
 * source tries to move the `default` SLA to the end, but its query selects only `name` and
 * `condition`, so `sla.get("default")` is always None and nothing moves — we keep that.
 */
export function selectCrmSla(doc: Doc, candidates: CrmSlaRecord[], now: Micros): string | null {
  const priority = doc.communication_status;
  const eligible = candidates.filter((sla) => {
    if (sla.apply_on !== doc.doctype) return false;
    if (!pyTruthy(sla.enabled)) return false;
    if (!inDateWindow(sla, now)) return false;
    if (pyTruthy(priority) && !(sla.priorities ?? []).some((row) => row.priority === priority)) return false;
    return true;
  });
  for (const sla of eligible) {
    const cond = sla.condition;
    // Errors from the condition propagate: in Python they abort the save.
    if (!cond || pyTruthy(safeEval(cond, conditionNames(doc, now)))) return sla.name;
  }
  return null;
}

/**
 * crm_lead.py `set_sla` (before_validate): pick an SLA only while none is set; when none
 * matches, clear the first-response fields. Returns whether `doc.sla` is set afterwards.
 */
export function setCrmSla(doc: Doc, candidates: CrmSlaRecord[], now: Micros): boolean {
  if (doc.sla) return true;
  const name = selectCrmSla(doc, candidates, now);
  if (!name) {
    doc.first_responded_on = null;
    doc.first_response_time = null;
    return false;
  }
  doc.sla = name;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Working-time arithmetic

/**
 * crm_service_level_agreement.py `calc_time`: walk forward from `start` consuming `seconds` of
 * working time. Two quirks kept on purpose:
 *   - a holiday or non-working day adds one day *keeping the time of day* (`add_to_date(res,
 *     days=1)`), so a lead created Saturday 15:00 resumes Monday 15:00, not at opening time;
 *   - once a day's hours are used up, `getdate(...)` drops to midnight of the next day.
 */
export function crmCalcTime(
  sla: CrmSlaRecord,
  holidayList: HolidayListRecord | null,
  start: Micros,
  seconds: number | null,
): Micros {
  let res = start;
  let timeNeeded = seconds ?? 0;
  const holidays = holidayDays(sla, holidayList);
  const workdays = keyBy(sla.working_hours, 'workday');
  // Python loops forever when no day can ever be worked; stop with an error instead.
  let guard = 0;
  while (timeNeeded) {
    if (++guard > 100_000) throw new Error(`calc_time: no working time found for SLA ${sla.name}`);
    const today = res;
    const todayDay = startOfDay(today);
    const weekday = weekdayName(today);
    const workday = workdays.get(weekday);
    if (holidays.has(todayDay) || !workday) {
      res += MICROS_PER_DAY;
      continue;
    }
    const nowInSeconds = (today - todayDay) / MICROS_PER_SECOND;
    const startTime = Math.max(timeSeconds(workday.start_time), nowInSeconds);
    const tillStartTime = Math.max(startTime - nowInSeconds, 0);
    const endTime = Math.max(timeSeconds(workday.end_time), nowInSeconds);
    const timeLeft = Math.max(endTime - startTime, 0);
    if (!timeLeft) {
      res = startOfDay(res + MICROS_PER_DAY);
      continue;
    }
    const timeTaken = Math.min(timeNeeded, timeLeft);
    timeNeeded -= timeTaken;
    res += Math.round((tillStartTime + timeTaken) * MICROS_PER_SECOND);
  }
  return res;
}

/**
 * crm_service_level_agreement.py `calc_elapsed_time`: the source steps one second at a time from
 * `start` while `< end`, counting steps whose instant is on a non-holiday working day with
 * `start_time <= HH:MM:SS < end_time` (microseconds dropped). We count the same steps per day
 * instead of one by one.
 */
export function crmCalcElapsedTime(
  sla: CrmSlaRecord,
  holidayList: HolidayListRecord | null,
  start: Micros,
  end: Micros,
): number {
  if (!(start < end)) return 0;
  const holidays = holidayDays(sla, holidayList);
  const workingDays = new Set((sla.working_hours ?? []).map((r) => r.workday));
  // get_working_hours: a dict, so the last row for a weekday wins.
  const hours = new Map<string, [number, number]>();
  for (const row of sla.working_hours ?? []) hours.set(row.workday, [timeSeconds(row.start_time), timeSeconds(row.end_time)]);

  // Step k (k = 0, 1, …) is at start + k s; it runs while start + k s < end. Its whole-second
  // timestamp is firstSecond + k.
  const firstSecond = Math.floor(start / MICROS_PER_SECOND);
  const steps = Math.ceil((end - start) / MICROS_PER_SECOND);
  const lastSecond = firstSecond + steps; // exclusive
  let total = 0;
  for (let day = Math.floor(firstSecond / 86_400); day * 86_400 < lastSecond; day++) {
    const dayStart = day * MICROS_PER_DAY;
    if (holidays.has(dayStart)) continue;
    const weekday = weekdayName(dayStart);
    if (!workingDays.has(weekday)) continue;
    const [ws, we] = hours.get(weekday) ?? [0, 0];
    if (ws === 0 && we === 0) continue;
    // Whole seconds s of the day with ws <= s < we.
    const lo = day * 86_400 + Math.ceil(ws);
    const hi = day * 86_400 + Math.ceil(we);
    const from = Math.max(lo, firstSecond);
    const to = Math.min(hi, lastSecond);
    if (to > from) total += to - from;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// apply

function defaultPriority(sla: CrmSlaRecord): string | null {
  for (const row of sla.priorities ?? []) if (pyTruthy(row.default_priority)) return row.priority;
  return sla.priorities?.[0]?.priority ?? null;
}

/**
 * `CRMServiceLevelAgreement.apply(doc)` (called from crm_lead.py / crm_deal.py `apply_sla` in
 * before_save). Mutates `doc`. `previous` is the stored copy before this save (`null` for an
 * insert), which is what `is_new()` and `has_value_changed()` consult.
 */
export function applyCrmSla(
  doc: Doc,
  previous: Doc | null,
  sla: CrmSlaRecord,
  holidayList: HolidayListRecord | null,
  now: Micros,
): void {
  const ctx = new CrmSlaRun(doc, previous, sla, holidayList, now);
  ctx.handleCreation();
  ctx.handleCommunicationStatus();
  ctx.handleTargets();
  ctx.handleSlaStatus();
}

class CrmSlaRun {
  private readonly nowText: string;
  private readonly defaultPriority: string | null;

  constructor(
    private readonly doc: Doc,
    private readonly previous: Doc | null,
    private readonly sla: CrmSlaRecord,
    private readonly holidayList: HolidayListRecord | null,
    private readonly now: Micros,
  ) {
    this.nowText = formatDatetime(now);
    this.defaultPriority = defaultPriority(sla);
  }

  private dt(value: unknown): Micros {
    return getDatetime(value, this.now);
  }

  private elapsed(start: unknown, end: unknown): number {
    return crmCalcElapsedTime(this.sla, this.holidayList, this.dt(start), this.dt(end));
  }

  private calc(start: unknown, seconds: unknown): string {
    const secs = typeof seconds === 'number' ? seconds : null;
    return formatDatetime(crmCalcTime(this.sla, this.holidayList, this.dt(start), secs));
  }

  /** `handle_creation`. */
  handleCreation(): void {
    this.doc.sla_creation = this.doc.sla_creation || this.nowText;
  }

  /** `handle_communication_status`: only on an existing doc whose status changed in this save. */
  handleCommunicationStatus(): void {
    if (this.previous === null || !hasValueChanged(this.doc, this.previous, 'communication_status')) return;
    this.setFirstRespondedOn();
    this.setFirstResponseTime();
  }

  /** `set_first_responded_on`: any status other than the default priority counts as a reply. */
  private setFirstRespondedOn(): void {
    const doc = this.doc;
    if (doc.communication_status !== this.defaultPriority) {
      doc.first_responded_on = doc.first_responded_on || this.nowText;
    }
  }

  /** `set_first_response_time`: working seconds from creation to first reply, computed once. */
  private setFirstResponseTime(): void {
    const doc = this.doc;
    if (!doc.sla_creation || !doc.first_responded_on) return;
    if (!doc.first_response_time) doc.first_response_time = this.elapsed(doc.sla_creation, doc.first_responded_on);
  }

  /** `handle_targets`. */
  handleTargets(): void {
    this.setResponseBy();
  }

  /** `set_response_by`: set once, from creation, for the current status's priority row. */
  private setResponseBy(): void {
    const doc = this.doc;
    const priority = keyBy(this.sla.priorities, 'priority').get(String(doc.communication_status));
    if (!priority || doc.response_by) return;
    const end = this.calc(doc.sla_creation, priority.first_response_time ?? null);
    if (end) doc.response_by = end;
  }

  /** `handle_sla_status`: the last option that holds wins. */
  handleSlaStatus(): void {
    const failed = this.isFirstResponseFailed();
    const options: [string, boolean][] = [
      ['Fulfilled', true],
      ['First Response Due', !this.doc.first_responded_on],
      ['Failed', failed],
    ];
    for (const [status, holds] of options) if (holds) this.doc.sla_status = status;
  }

  /** `is_first_response_failed`. */
  private isFirstResponseFailed(): boolean {
    const doc = this.doc;
    if (!doc.first_responded_on) return this.dt(doc.response_by) < this.now;
    return this.dt(doc.response_by) < this.dt(doc.first_responded_on);
  }
}
