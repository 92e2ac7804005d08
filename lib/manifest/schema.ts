/**
 * `hooks_manifest.json`: the one wiring table (docs/architecture.md), in Frappe's vocabulary — DocType →
 * event → handler ids for realtime, `scheduler_events`' shape for jobs (frappe/hooks.py [v15]).
 */
import { Cron } from 'croner';
import { z } from 'zod';

const handlerId = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'a handler id like "sla.sweep"');

const cronExpression = z.string().refine(
  (expr) => {
    if (expr.trim().split(/\s+/).length !== 5) return false;
    try {
      new Cron(expr, { paused: true });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'a 5-field cron expression, e.g. "*/5 * * * *"' },
);

/**
 * The realtime event the sidecar hears per DocType: `list_update` on the `doctype:` room
 * (frappe/model/document.py `notify_update`). `doc_update` goes only to per-document rooms, which a
 * sidecar watching whole DocTypes does not join, so it cannot be wired here.
 */
const realtimeEvent = z.enum(['list_update']);

export const deskTargetSchema = z
  .object({
    /** Bundle name; the built file is dist/desk/<name>.js. */
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case'),
    doctype: z.string().min(1),
    ui: z.enum(['desk', 'crm', 'helpdesk']),
    /** Entry module, relative to the repository root. */
    entry: z.string().regex(/^desk\/.+\.ts$/, 'a .ts file under desk/'),
    /** The record the bundle is installed as. */
    record: z
      .object({
        doctype: z.enum(['Client Script', 'CRM Form Script', 'HD Form Script']),
        name: z.string().min(1),
        view: z.enum(['Form', 'List']).default('Form'),
      })
      .strict(),
  })
  .strict();

export const manifestSchema = z
  .object({
    app: z.string().regex(/^[a-z][a-z0-9_]*$/),
    desk: z.array(deskTargetSchema).default([]),
    realtime: z.record(z.string().min(1), z.partialRecord(realtimeEvent, z.array(handlerId).min(1)).refine((v) => Object.keys(v).length > 0, 'at least one event')).default({}),
    scheduler: z
      .object({
        cron: z.record(cronExpression, z.array(handlerId).min(1)).default({}),
        all: z.array(handlerId).optional(),
        hourly: z.array(handlerId).optional(),
        daily: z.array(handlerId).optional(),
        weekly: z.array(handlerId).optional(),
        monthly: z.array(handlerId).optional(),
      })
      .strict()
      .default({ cron: {} }),
    /** Jobs an operator starts (`history sync`, later the console); never scheduled or triggered by events. */
    jobs: z.array(handlerId).default([]),
    webhooks: z
      .array(
        z
          .object({
            route: z.string().regex(/^\/webhooks\/[a-z0-9_-]+$/, 'a path like /webhooks/shopify'),
            verifier: z.enum(['shopify-hmac', 'standard-webhooks']),
            handler: handlerId,
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type HooksManifest = z.infer<typeof manifestSchema>;
export type DeskTarget = z.infer<typeof deskTargetSchema>;
