/**
 * Helpdesk's Service Level Agreement, as pure functions over plain documents.
 *
 * Mirrors frappe/helpdesk:
 *   - helpdesk/helpdesk/doctype/hd_service_level_agreement/utils.py — `get_sla`, `get_default`
 *   - helpdesk/helpdesk/doctype/hd_service_level_agreement/hd_service_level_agreement.py —
 *     `apply` (`handle_new`, `handle_doc_status`, `handle_targets`, `handle_agreement_status`),
 *     `calc_time` (with `hold_time`) and the per-day `calc_elapsed_time`
 *   - helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py — `set_sla` (every save) / `apply_sla`
 *   - helpdesk/utils.py — `get_context`
 *
 * Conventions and the helpers both SLA engines share: ../sla_common.ts.
 */
import { MICROS_PER_DAY, MICROS_PER_SECOND, formatDatetime, startOfDay, weekdayName, type Micros } from '../../core/datetime.js';
import { FrappeError, frappeThrow } from '../../core/errors.js';
import { pyTruthy, safeEval } from '../safe_eval.js';
import { conditionNames, getDatetime, hasValueChanged, holidayMidnights, inDateWindow, keyBy, timeSeconds, type Doc } from '../sla_common.js';

/** An `HD Service Level Priority` row (`priority` links to `HD Ticket Priority`). */
export interface HdSlaPriorityRow {
  priority: string;
  /** Duration, seconds. */
  response_time: number | null;
  resolution_time?: number | null;
  default_priority?: number | boolean | null;
  [field: string]: unknown;
}

/** An `HD Service Day` row. */
export interface HdServiceDayRow {
  workday: string;
  start_time: string;
  end_time: string;
  [field: string]: unknown;
}

/** An `HD Service Level Agreement` document with its child tables. */
export interface HdSlaRecord {
  name: string;
  service_level?: string | null;
  enabled?: number | boolean | null;
  default_sla?: number | boolean | null;
  condition?: string | null;
  start_date?: string | null;
  end_date?: string | null;
  holiday_list?: string | null;
  /** Doctype default 1; an absent field is read as that default. */
  apply_sla_for_resolution?: number | boolean | null;
  /** Set by the SLA's own before_save from the row flagged `default_priority`. */
  default_priority?: string | null;
  default_ticket_status?: string | null;
  ticket_reopen_status?: string | null;
  priorities: HdSlaPriorityRow[];
  support_and_resolution: HdServiceDayRow[];
  [field: string]: unknown;
}

/** An `HD Service Holiday List`; its rows carry `holiday_date`. */
export interface HdHolidayListRecord {
  name?: string;
  holidays: { holiday_date: string | null; description?: string | null; [field: string]: unknown }[];
  [field: string]: unknown;
}

export interface HdSlaOptions {
  /**
   * `HD Ticket Status` name → category (Open / Paused / Resolved). The source queries the table
   * for the Paused and Resolved names; defaults are helpdesk/setup/install.py's statuses.
   */
  statusCategories?: Record<string, string>;
}

export const DEFAULT_HD_STATUS_CATEGORIES: Readonly<Record<string, string>> = Object.freeze({
  Open: 'Open',
  Replied: 'Paused',
  Resolved: 'Resolved',
  Closed: 'Resolved',
});

// ---------------------------------------------------------------------------------------------
// Small Python-equivalents

/** `get_holidays`: the `holiday_date` of every row of the SLA's holiday list. */
function holidayDays(sla: HdSlaRecord, holidayList: HdHolidayListRecord | null): Set<number> {
  if (!sla.holiday_list || !holidayList) return new Set();
  return holidayMidnights((holidayList.holidays ?? []).map((row) => row.holiday_date));
}

const appliesToResolution = (sla: HdSlaRecord): boolean =>
  sla.apply_sla_for_resolution === undefined ? true : pyTruthy(sla.apply_sla_for_resolution);

// ---------------------------------------------------------------------------------------------
// Selection

/**
 * utils.py `get_sla` then `get_default`. First, enabled non-default SLAs inside their date
 * window that have a priority row for `ticket.priority` (when set), in query order; the first
 * with an empty or truthy condition wins. Otherwise `get_default()`: `frappe.get_last_doc` over
 * enabled default SLAs — the most recently created (last in `candidates`, which must be in
 * creation order), with no date-window or priority check. When there is none, `get_last_doc`
 * raises DoesNotExistError, which aborts the ticket save.
 */
export function selectHdSla(ticket: Doc, candidates: HdSlaRecord[], now: Micros): string {
  const priority = ticket.priority;
  for (const sla of candidates) {
    if (!pyTruthy(sla.enabled) || pyTruthy(sla.default_sla)) continue;
    if (!inDateWindow(sla, now)) continue;
    if (pyTruthy(priority) && !(sla.priorities ?? []).some((row) => row.priority === priority)) continue;
    const cond = sla.condition;
    if (!cond || pyTruthy(safeEval(cond, conditionNames(ticket, now)))) return sla.name;
  }
  for (let k = candidates.length - 1; k >= 0; k--) {
    const sla = candidates[k];
    if (pyTruthy(sla.enabled) && pyTruthy(sla.default_sla)) return sla.name;
  }
  // `DoesNotExistError(doctype=…)` carries no message of its own.
  throw new FrappeError('DoesNotExistError');
}

// ---------------------------------------------------------------------------------------------
// Working-time arithmetic

/**
 * hd_service_level_agreement.py `calc_time`: from `start`, consume the priority's
 * `response_time` or `resolution_time` (plus `holdTime` for resolution) of working time.
 * Unlike CRM's version, a holiday or non-working day jumps to midnight of the next day.
 */
export function hdCalcTime(
  sla: HdSlaRecord,
  holidayList: HdHolidayListRecord | null,
  start: Micros,
  priority: string,
  target: 'response_time' | 'resolution_time',
  holdTime = 0,
): Micros {
  const priorities = keyBy(sla.priorities, 'priority');
  const row = priorities.get(String(priority));
  if (!row) frappeThrow(`Please add ${priority} priority in ${sla.name} SLA`);
  let remaining = row[target] ?? null;
  if (target === 'resolution_time') {
    // `remaining_target_time += hold_time` on a None target is a TypeError in Python.
    if (remaining === null) {
      throw new FrappeError('TypeError', {
        excText: "unsupported operand type(s) for +=: 'NoneType' and 'int'",
      });
    }
    remaining = Number(remaining) + holdTime;
  }
  let timeNeeded = typeof remaining === 'number' ? remaining : 0;
  let result = start;
  const holidays = holidayDays(sla, holidayList);
  const workdays = keyBy(sla.support_and_resolution, 'workday');
  let guard = 0;
  while (timeNeeded) {
    // Python would spin forever when no day is workable; fail loudly instead.
    if (++guard > 100_000) throw new Error(`calc_time: no working time found for SLA ${sla.name}`);
    const currentDate = startOfDay(result);
    const workday = workdays.get(weekdayName(result));
    if (holidays.has(currentDate) || !workday) {
      result = currentDate + MICROS_PER_DAY;
      continue;
    }
    const currentSeconds = (result - currentDate) / MICROS_PER_SECOND;
    const startTime = Math.max(timeSeconds(workday.start_time), currentSeconds);
    const tillStartTime = Math.max(startTime - currentSeconds, 0);
    const endTime = Math.max(timeSeconds(workday.end_time), currentSeconds);
    const timeLeft = Math.max(endTime - startTime, 0);
    if (!timeLeft) {
      result = currentDate + MICROS_PER_DAY;
      continue;
    }
    const timeTaken = Math.min(timeNeeded, timeLeft);
    timeNeeded -= timeTaken;
    result += Math.round((tillStartTime + timeTaken) * MICROS_PER_SECOND);
  }
  return result;
}

/**
 * hd_service_level_agreement.py `calc_elapsed_time`: working seconds between two instants, day
 * by day, skipping holidays and non-working days; the first/last day are clipped to the
 * instants' whole seconds (`convert_to_seconds` drops microseconds).
 */
export function hdCalcElapsedTime(
  sla: HdSlaRecord,
  holidayList: HdHolidayListRecord | null,
  start: Micros,
  end: Micros,
): number {
  if (start >= end) return 0;
  const holidays = holidayDays(sla, holidayList);
  const workdays = keyBy(sla.support_and_resolution, 'workday');
  const wholeSecondOfDay = (us: Micros) => Math.floor((us - startOfDay(us)) / MICROS_PER_SECOND);
  const startDate = startOfDay(start);
  const endDate = startOfDay(end);
  let total = 0;
  for (let day = startDate; day <= endDate; day += MICROS_PER_DAY) {
    if (holidays.has(day)) continue;
    const workday = workdays.get(weekdayName(day));
    if (!workday) continue;
    const ws = timeSeconds(workday.start_time);
    const we = timeSeconds(workday.end_time);
    const dayStart = day === startDate ? Math.max(wholeSecondOfDay(start), ws) : ws;
    const dayEnd = day === endDate ? Math.min(wholeSecondOfDay(end), we) : we;
    if (dayStart < dayEnd) total += dayEnd - dayStart;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// apply

/**
 * `HDServiceLevelAgreement.apply(doc)` (hd_ticket.py `apply_sla`, before_save). Mutates the
 * ticket. `previous` is `get_doc_before_save()` (null on insert). The trailing
 * `validate_all_priorities()` only queues msgprints about priorities missing from the SLA, so it
 * is left out.
 */
export function applyHdSla(
  ticket: Doc,
  previous: Doc | null,
  sla: HdSlaRecord,
  holidayList: HdHolidayListRecord | null,
  now: Micros,
  options: HdSlaOptions = {},
): void {
  const run = new HdSlaRun(ticket, previous, sla, holidayList, now, options.statusCategories ?? DEFAULT_HD_STATUS_CATEGORIES);
  run.handleNew();
  run.handleDocStatus();
  run.handleTargets();
  handleAgreementStatus(ticket, sla, now);
}

/**
 * `handle_agreement_status`: options checked in dict order, the *last* true one wins, so the
 * effective precedence is Paused > Failed > First Response Due > Resolution Due > Fulfilled.
 * Exported because the hourly `update_sla_status_in_ticket` job calls just this.
 */
export function handleAgreementStatus(ticket: Doc, sla: HdSlaRecord, now: Micros): void {
  const dt = (v: unknown) => getDatetime(v, now);
  const firstResponseFailed = !ticket.first_responded_on
    ? dt(ticket.response_by) < now
    : dt(ticket.response_by) < dt(ticket.first_responded_on);
  let resolutionFailed = false;
  if (appliesToResolution(sla) && ticket.resolution_by) {
    resolutionFailed = !ticket.resolution_date
      ? dt(ticket.resolution_by) < now
      : dt(ticket.resolution_by) < dt(ticket.resolution_date);
  }
  const options: [string, boolean][] = [
    ['Fulfilled', true],
    ['Resolution Due', appliesToResolution(sla) && !ticket.resolution_date],
    ['First Response Due', !ticket.first_responded_on],
    ['Failed', firstResponseFailed || resolutionFailed],
    ['Paused', pyTruthy(ticket.on_hold_since)],
  ];
  for (const [status, holds] of options) if (holds) ticket.agreement_status = status;
}

class HdSlaRun {
  private readonly nowText: string;

  constructor(
    private readonly doc: Doc,
    private readonly previous: Doc | null,
    private readonly sla: HdSlaRecord,
    private readonly holidayList: HdHolidayListRecord | null,
    private readonly now: Micros,
    private readonly categories: Readonly<Record<string, string>>,
  ) {
    this.nowText = formatDatetime(now);
  }

  private dt(value: unknown): Micros {
    return getDatetime(value, this.now);
  }

  private elapsed(start: unknown, end: unknown): number {
    return hdCalcElapsedTime(this.sla, this.holidayList, this.dt(start), this.dt(end));
  }

  private statusesIn(category: string): Set<string> {
    return new Set(Object.entries(this.categories).filter(([, c]) => c === category).map(([name]) => name));
  }

  /** `handle_new`: clock start and default priority on insert. */
  handleNew(): void {
    if (this.previous !== null) return;
    const doc = this.doc;
    doc.service_level_agreement_creation = doc.service_level_agreement_creation || this.nowText;
    doc.priority = doc.priority || this.defaultPriority();
  }

  private defaultPriority(): string | null {
    if (this.sla.default_priority) return this.sla.default_priority;
    // Normally filled by the SLA's before_save; derive it the same way when the record lacks it.
    return (this.sla.priorities ?? []).find((r) => pyTruthy(r.default_priority))?.priority ?? null;
  }

  /** `handle_doc_status`: on a status change, except Resolved → Closed. */
  handleDocStatus(): void {
    const doc = this.doc;
    const previous = this.previous;
    if (previous === null || !hasValueChanged(doc, previous, 'status')) return;
    const wasResolved = (previous.status_category ?? null) === 'Resolved';
    const isClosed = doc.status === 'Closed';
    if (wasResolved && isClosed) return;
    this.setFirstResponseTime();
    this.setResolutionDate();
    this.setHoldTime();
  }

  /** `set_first_response_time`: recomputed on every status change. */
  private setFirstResponseTime(): void {
    const doc = this.doc;
    if (!doc.service_level_agreement_creation || !doc.first_responded_on) return;
    doc.first_response_time = this.elapsed(doc.service_level_agreement_creation, doc.first_responded_on);
  }

  /** `set_resolution_date`: stamped when the new status is in the Resolved category. */
  private setResolutionDate(): void {
    const doc = this.doc;
    if (!this.statusesIn('Resolved').has(String(doc.status))) {
      doc.resolution_date = null;
      doc.resolution_time = null;
      return;
    }
    doc.resolution_date = this.nowText;
    const took = this.elapsed(doc.service_level_agreement_creation, doc.resolution_date);
    const hold = Number(doc.total_hold_time || 0);
    doc.resolution_time = Math.max(took - hold, 0);
  }

  /**
   * `set_hold_time`: entering a Paused status starts the hold clock; leaving it (or reopening a
   * resolved ticket, via the old `resolution_date`) adds the working time held.
   */
  private setHoldTime(): void {
    const doc = this.doc;
    const old = this.previous as Doc;
    const paused = this.statusesIn('Paused');
    const wasPaused = paused.has(String(old.status));
    const isPaused = paused.has(String(doc.status));
    const pausedSince = doc.on_hold_since || old.resolution_date;
    if (isPaused && !wasPaused) {
      doc.response_by = doc.first_responded_on ? doc.resolution_by : null;
      doc.resolution_date = null;
      doc.resolution_by = null;
      doc.resolution_time = null;
      doc.on_hold_since = this.nowText;
    } else if (!isPaused && wasPaused) {
      doc.on_hold_since = null;
    }
    if (isPaused || !pausedSince) return;
    doc.on_hold_since = null;
    const held = Math.max(this.elapsed(pausedSince, this.nowText), 0);
    doc.total_hold_time = Number(doc.total_hold_time || 0) + held;
  }

  /** `handle_targets`: both deadlines recomputed from the clock start on every save. */
  handleTargets(): void {
    const doc = this.doc;
    const start = this.dt(doc.service_level_agreement_creation);
    // `get_priorities()[None]` misses like any unknown priority; Python prints it as "None".
    const priority = doc.priority === null || doc.priority === undefined ? 'None' : String(doc.priority);
    doc.response_by = formatDatetime(hdCalcTime(this.sla, this.holidayList, start, priority, 'response_time'));
    const hold = Number(doc.total_hold_time || 0);
    doc.resolution_by = formatDatetime(
      hdCalcTime(this.sla, this.holidayList, start, priority, 'resolution_time', hold),
    );
  }
}
