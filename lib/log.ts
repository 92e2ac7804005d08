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

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of knownSecrets) out = out.split(s).join('[redacted]');
  return out;
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
        err: (e: Error) => ({ type: e.name, message: redactSecrets(e.message) }),
      },
    },
    opts.destination,
  );
}
