import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/manifest/load.js';
import { scheduleEntries, startScheduler, tickJob } from '../../sidecar/scheduler.js';

describe('scheduler', () => {
  it('reads cron tables and Frappe frequencies from the manifest (scheduled_job_type.py implicit crons)', () => {
    const m = parseManifest({ app: 'a', scheduler: { cron: { '*/5 * * * *': ['sla.sweep'] }, daily: ['health.check'], hourly: ['x.y'] } });
    expect(scheduleEntries(m)).toEqual([
      { cron: '*/5 * * * *', handler: 'sla.sweep' },
      { cron: '0 * * * *', handler: 'x.y' },
      { cron: '0 0 * * *', handler: 'health.check' },
    ]);
  });

  it('a tick has one job id per handler, site and minute, whichever replica fires it', () => {
    const a = tickJob('sla.sweep', 'erp.example.com', new Date('2026-05-01T10:05:00.004Z'), 'UTC');
    const b = tickJob('sla.sweep', 'erp.example.com', new Date('2026-05-01T10:05:00.731Z'), 'UTC');
    expect(a.id).toBe(b.id);
    expect(a.id).toBe('cron|sla.sweep|erp.example.com|2026-05-01T10:05:00.000Z');
    expect(tickJob('sla.sweep', 'other.example.com', new Date('2026-05-01T10:05:00Z'), 'UTC').id).not.toBe(a.id);
  });

  it('evaluates crons in the site time zone', () => {
    const entries = [{ cron: '0 9 * * *', handler: 'x.daily' }];
    const kolkata = startScheduler({ site: 's', timeZone: 'Asia/Kolkata', entries, enqueue: async () => true, logger: pino({ level: 'silent' }) });
    const utc = startScheduler({ site: 's', timeZone: 'UTC', entries, enqueue: async () => true, logger: pino({ level: 'silent' }) });
    try {
      const nextKolkata = new Date(kolkata.next()['x.daily (0 9 * * *)']!);
      const nextUtc = new Date(utc.next()['x.daily (0 9 * * *)']!);
      // 09:00 in Kolkata is 03:30 UTC: the same wall-clock hour lands 5.5 h apart (mod a day).
      expect(nextKolkata.getUTCHours() * 60 + nextKolkata.getUTCMinutes()).toBe(3 * 60 + 30);
      expect(nextUtc.getUTCHours()).toBe(9);
    } finally {
      kolkata.stop();
      utc.stop();
    }
  });
});
