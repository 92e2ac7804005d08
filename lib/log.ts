/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret-bearing keys are
 * redacted wherever they appear, and `redactSecrets` scrubs registered secret values out of text
 * (error messages, URLs) before it is logged or stored.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'apiSecret',
  'api_secret',
  'secret',
  'password',
  'token',
  'authorization',
  'Authorization',
  '*.apiSecret',
  '*.api_secret',
  '*.secret',
  '*.password',
  '*.token',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.Authorization',
];

const knownSecrets = new Set<string>();

/** Remember a secret value so `redactSecrets` can scrub it from free text. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) knownSecrets.add(value);
}

/** The registered values, for a worker thread whose own logs and errors must be scrubbed alike. */
export function registeredSecrets(): string[] {
  return [...knownSecrets];
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of knownSecrets) out = out.split(s).join('[redacted]');
  return out;
}

/** Causes wrap causes (a REST error around a fetch error around a socket error); a few levels say enough. */
export const MAX_CAUSE_DEPTH = 4;

/**
 * An error as a log field: its name, message, stack and chain of causes, every text scrubbed by
 * `redactSecrets` (a stack's first line repeats the message, and a cause may echo a URL with a key).
 */
export function serializeError(e: unknown, depth = 0): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: redactSecrets(typeof e === 'string' ? e : safeJson(e)) };
  const out: Record<string, unknown> = { type: e.name, message: redactSecrets(e.message) };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (e.stack) out.stack = redactSecrets(e.stack);
  if (e.cause !== undefined) {
    out.cause = depth + 1 < MAX_CAUSE_DEPTH ? serializeError(e.cause, depth + 1) : { message: `[further causes omitted after ${MAX_CAUSE_DEPTH}]` };
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'crm-order-companion' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Free-text fields may carry a secret (an error echoing a URL, say): scrub them too.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      serializers: {
        err: (e: unknown) => serializeError(e),
      },
    },
    opts.destination,
  );
}
