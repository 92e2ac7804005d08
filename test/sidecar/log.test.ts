import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, MAX_CAUSE_DEPTH, registerSecret } from '../../lib/log.js';

const SECRET = 'shpss_cause-secret-4f1a9c';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('the log serializer of errors', () => {
  registerSecret(SECRET);

  it('keeps the cause and the stacks of a logged error, with a secret in the cause scrubbed everywhere', () => {
    const { logger, lines } = capture();
    const socket = new Error(`connect ECONNREFUSED https://shop.example/admin?key=${SECRET}`);
    const err = new Error('could not fetch the order', { cause: socket });
    logger.error({ err }, 'fetch failed');

    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    const entry = JSON.parse(lines[0]!) as { err: { type: string; message: string; stack: string; cause: { message: string; stack: string } } };
    expect(entry.err.type).toBe('Error');
    expect(entry.err.message).toBe('could not fetch the order');
    expect(entry.err.stack).toContain('could not fetch the order');
    expect(entry.err.stack).toMatch(/\n\s+at /);
    expect(entry.err.cause.message).toBe('connect ECONNREFUSED https://shop.example/admin?key=[redacted]');
    expect(entry.err.cause.stack).toContain('[redacted]');
    expect(entry.err.cause.stack).toMatch(/\n\s+at /);
  });

  it('follows a chain of causes only so deep, so a cyclic cause cannot loop', () => {
    const { logger, lines } = capture();
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    logger.error({ err: b }, 'cycle');
    let node = (JSON.parse(lines[0]!) as { err: Record<string, unknown> }).err;
    let depth = 0;
    while (node.cause) {
      node = node.cause as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBe(MAX_CAUSE_DEPTH);
    expect(node.message).toMatch(/further causes omitted/);
  });

  it('scrubs a cause that is not an Error', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('rejected', { cause: { url: `https://x.example/?token=${SECRET}` } }) }, 'rejected');
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain('[redacted]');
  });
});
