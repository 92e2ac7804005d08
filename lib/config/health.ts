/**
 * The daily health check's configuration (`health` in the COC_CONFIG file; README "Daily health
 * check"): when it runs, the thresholds above which a check is a finding, and who is told. The
 * defaults are the seed integration's: more than 10 SLA failures in a day, more than 5 submitted
 * Sales Orders of the last 7 days in no order history, an alert to the administrators.
 */
import { z } from 'zod';

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export const healthFileSchema = z
  .object({
    /** Site wall-clock time of the daily run, "HH:MM" in the site's System Settings time zone. */
    time: z.string().regex(HH_MM, 'must be "HH:MM" (24-hour), e.g. "07:00"').optional(),
    /** A finding when more SLAs than this failed in the 24 hours before the run. */
    slaFailures: z.number().int().min(0).optional(),
    /** A finding when more submitted Sales Orders than this (of `unsyncedDays`) are in no history. */
    unsyncedOrders: z.number().int().min(0).optional(),
    /** How many days back the unsynced-orders check looks (by transaction_date). */
    unsyncedDays: z.number().int().min(1).max(366).optional(),
    /** A finding when the realtime link was down for more minutes than this in the 24 hours. */
    realtimeDownMinutes: z.number().int().min(0).max(24 * 60).optional(),
    /** A finding when more dead letters than this are in the job store. */
    deadLetters: z.number().int().min(0).optional(),
    /** A finding when more shop orders than this wait for an item mapping. */
    needsMapping: z.number().int().min(0).optional(),
    /** Frappe users (User ids) who get a Notification Log per finding. */
    recipients: z.array(z.string().min(1)).optional(),
    /** Email addresses that get one email per day with the findings, sent by the site's own mail. */
    emailRecipients: z.array(z.string().email('must be an email address')).optional(),
  })
  .strict();

export interface HealthConfig {
  /** "HH:MM", site time. @defaultValue "07:00" */
  time: string;
  /** @defaultValue 10 */
  slaFailures: number;
  /** @defaultValue 5 */
  unsyncedOrders: number;
  /** @defaultValue 7 */
  unsyncedDays: number;
  /** @defaultValue 30 */
  realtimeDownMinutes: number;
  /** @defaultValue 0 (any dead letter is a finding) */
  deadLetters: number;
  /** @defaultValue 0 (any order waiting for a mapping is a finding) */
  needsMapping: number;
  /** @defaultValue ["Administrator"] */
  recipients: string[];
  /** @defaultValue [] (no email) */
  emailRecipients: string[];
}

export const DEFAULT_HEALTH: HealthConfig = {
  time: '07:00',
  slaFailures: 10,
  unsyncedOrders: 5,
  unsyncedDays: 7,
  realtimeDownMinutes: 30,
  deadLetters: 0,
  needsMapping: 0,
  recipients: ['Administrator'],
  emailRecipients: [],
};

/** Defaults, then the file's values. */
export function buildHealth(file: z.infer<typeof healthFileSchema> | undefined): HealthConfig {
  const defined = Object.fromEntries(Object.entries(file ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_HEALTH, ...defined };
}

/** "HH:MM" → the cron expression of a daily run at that time. */
export function dailyCron(time: string): string {
  const m = HH_MM.exec(time);
  if (!m) throw new RangeError(`health time must be "HH:MM", got "${time}"`);
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}
