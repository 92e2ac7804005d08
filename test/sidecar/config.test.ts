import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../sidecar/config/load.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

const SECRET = 's3cr3t-value-xyz';

describe('sidecar configuration', () => {
  it('one site from the environment, with defaults', () => {
    const c = loadConfig({ FRAPPE_URL: 'https://erp.example.com/', FRAPPE_API_KEY: 'key1', FRAPPE_API_SECRET: SECRET });
    expect(c.sites).toHaveLength(1);
    expect(c.sites[0]).toMatchObject({ name: 'erp.example.com', url: 'https://erp.example.com', apiKey: 'key1' });
    expect(c.sites[0].apiSecret()).toBe(SECRET);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8090 });
    expect(c.redisUrl).toBeUndefined();
    expect(c.concurrency).toBe(4);
  });

  it('reports every problem at once, naming the key and the fix, never the secret', () => {
    const list = problems({ FRAPPE_URL: 'erp.example.com', FRAPPE_API_SECRET: SECRET, COC_PORT: 'eighty', COC_REDIS_URL: 'localhost:6379' });
    expect(list.join('\n')).toMatch(/url: "erp.example.com" is not an http\(s\) URL/);
    expect(list.join('\n')).toMatch(/FRAPPE_API_KEY: missing/);
    expect(list.join('\n')).toMatch(/COC_PORT: "eighty" is not a whole number/);
    expect(list.join('\n')).toMatch(/COC_REDIS_URL: must look like redis:\/\//);
    expect(list.join('\n')).not.toContain(SECRET);
  });

  it('says how to configure when nothing is configured', () => {
    expect(problems({})[0]).toMatch(/no site configured: set FRAPPE_URL, FRAPPE_API_KEY and FRAPPE_API_SECRET/);
  });

  it('several sites from a file; secrets from env or a file (read again on use, so rotation works)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const secretFile = join(dir, 'b.secret');
    writeFileSync(secretFile, 'first-secret\n');
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        sites: [
          { url: 'https://a.example.com', apiKey: 'ka', apiSecretEnv: 'A_SECRET' },
          { name: 'b.local', url: 'http://10.0.0.2:8000', realtimeUrl: 'http://10.0.0.2:9000', apiKeyEnv: 'B_KEY', apiSecretFile: secretFile },
        ],
        redisUrl: 'redis://127.0.0.1:6379',
        http: { port: 9100 },
      }),
    );
    const c = loadConfig({ COC_CONFIG: file, A_SECRET: SECRET, B_KEY: 'kb' });
    expect(c.sites.map((s) => s.name)).toEqual(['a.example.com', 'b.local']);
    expect(c.sites[1].realtimeUrl).toBe('http://10.0.0.2:9000');
    expect(c.sites[1].apiKey).toBe('kb');
    expect(c.sites[1].apiSecret()).toBe('first-secret');
    writeFileSync(secretFile, 'rotated-secret\n');
    expect(c.sites[1].apiSecret()).toBe('rotated-secret');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.http.port).toBe(9100);
  });

  it('refuses unknown keys and inline secrets in the file, with the path of the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sites: [{ url: 'https://a.example.com', apiKey: 'k', apiSecret: SECRET }] }));
    const list = problems({ COC_CONFIG: file });
    expect(list[0]).toContain('sites[0]: unknown key(s) apiSecret');
    expect(list.join('\n')).not.toContain(SECRET);
  });

  it('an unset secret variable or unreadable secret file is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ sites: [{ url: 'https://a.example.com', apiKey: 'k', apiSecretEnv: 'NOPE' }, { url: 'https://b.example.com', apiKey: 'k', apiSecretFile: join(dir, 'missing') }] }),
    );
    const list = problems({ COC_CONFIG: file });
    expect(list.join('\n')).toMatch(/sites\[0\]\.apiSecretEnv\/apiSecretFile: environment variable NOPE is not set/);
    expect(list.join('\n')).toMatch(/sites\[1\]\.apiSecretFile: cannot read .*missing \(ENOENT\)/);
  });
});
