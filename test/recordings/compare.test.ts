/**
 * The replay's comparator catches a drift: a changed status, a missing or extra key, another JSON
 * type, another order, a name that stands for something else — and lets through what the
 * recordings' README says varies between runs.
 */
import { describe, expect, it } from 'vitest';
import { compare, compareText, Substitutions } from './compare.js';
import { excuses } from './exceptions.js';

const recorded = {
  status: 200,
  'content-type': 'application/json',
  body: {
    data: {
      name: 'CRM-LEAD-2026-00038',
      creation: '2026-12-02 20:01:27.502495',
      status: 'New',
      idx: '0',
      rows: [
        { name: 'loobsiig9q', parent: 'CRM-LEAD-2026-00038', idx: 1, sales_order: 'SAL-ORD-2026-00014' },
        { name: 'casc1kvbpe', parent: 'CRM-LEAD-2026-00038', idx: 2, sales_order: 'SAL-ORD-2026-00016' },
      ],
    },
  },
};

function actual() {
  return {
    status: 200,
    'content-type': 'application/json',
    body: {
      data: {
        name: 'CRM-LEAD-2026-00001',
        creation: '2026-12-02 20:01:21.000123',
        status: 'New',
        idx: '0',
        rows: [
          { name: 'a1b2c3d4e5', parent: 'CRM-LEAD-2026-00001', idx: 1, sales_order: 'SAL-ORD-2026-00001' },
          { name: 'f6g7h8i9j0', parent: 'CRM-LEAD-2026-00001', idx: 2, sales_order: 'SAL-ORD-2026-00002' },
        ],
      },
    },
  };
}

const paths = (d: { path: string }[]) => d.map((x) => x.path);

describe('compare', () => {
  it('accepts generated names and datetimes by shape, and learns what they stand for', () => {
    const subs = new Substitutions();
    expect(compare(recorded, actual(), { subs })).toEqual([]);
    expect(subs.get('CRM-LEAD-2026-00038')).toBe('CRM-LEAD-2026-00001');
    expect(subs.get('2026-12-02 20:01:27.502495')).toBe('2026-12-02 20:01:21.000123');
    expect(subs.text('/api/resource/CRM Lead/CRM-LEAD-2026-00038?m=2026-12-02T20:01:27.502495')).toBe('/api/resource/CRM Lead/CRM-LEAD-2026-00001?m=2026-12-02T20:01:21.000123');
  });

  it('catches a changed status', () => {
    const a = actual();
    a.status = 417;
    expect(paths(compare(recorded, a, { subs: new Substitutions() }))).toEqual(['$.status']);
  });

  it('catches a missing key and an unexpected one', () => {
    const a = actual() as { body: { data: Record<string, unknown> } };
    delete a.body.data.status;
    a.body.data.type = 'Open';
    const d = compare(recorded, a, { subs: new Substitutions() });
    expect(d.map((x) => [x.path, x.problem])).toEqual([
      ['$.body.data.status', 'missing key'],
      ['$.body.data.type', 'unexpected key'],
    ]);
  });

  it('reads a learnt name inside a key as the emulator\'s (_link_titles "<doctype>::<name>")', () => {
    const subs = new Substitutions();
    expect(compare(recorded, actual(), { subs })).toEqual([]);
    const titles = (name: string) => ({ _link_titles: { [`CRM Lead::${name}`]: 'Ada' } });
    expect(compare(titles('CRM-LEAD-2026-00038'), titles('CRM-LEAD-2026-00001'), { subs })).toEqual([]);
    // Another lead's title is still another key.
    expect(compare(titles('CRM-LEAD-2026-00038'), titles('CRM-LEAD-2026-00002'), { subs }).map((x) => [x.path, x.problem])).toEqual([
      ['$._link_titles["CRM Lead::CRM-LEAD-2026-00038"]', 'missing key'],
      ['$._link_titles["CRM Lead::CRM-LEAD-2026-00002"]', 'unexpected key'],
    ]);
  });

  it('compares opening_time by shape (README: it varies between runs)', () => {
    const subs = new Substitutions();
    expect(compare({ opening_time: '20:02:10.28925' }, { opening_time: '9:15:00.5' }, { subs })).toEqual([]);
    expect(compare({ opening_time: '20:02:10.28925' }, { opening_time: '2026-12-02 20:02:10' }, { subs }).map((d) => d.problem)).toEqual(['not a time H:MM:SS[.ffffff]']);
    expect(compare({ opening_time: '20:02:10.28925' }, { opening_time: null }, { subs }).map((d) => d.problem)).toEqual(['type null, recorded string']);
  });

  it('catches another JSON type (a Single idx "0" answered as 0)', () => {
    const a = actual() as { body: { data: Record<string, unknown> } };
    a.body.data.idx = 0;
    const d = compare(recorded, a, { subs: new Substitutions() });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ path: '$.body.data.idx', problem: 'type number, recorded string' });
  });

  it('catches another row order once the names are known', () => {
    const subs = new Substitutions();
    expect(compare(recorded, actual(), { subs })).toEqual([]);
    const swapped = actual();
    swapped.body.data.rows.reverse();
    expect(paths(compare(recorded, swapped, { subs }))).toEqual([
      '$.body.data.rows[0].name',
      '$.body.data.rows[0].idx',
      '$.body.data.rows[0].sales_order',
      '$.body.data.rows[1].name',
      '$.body.data.rows[1].idx',
      '$.body.data.rows[1].sales_order',
    ]);
  });

  it('catches a row too many and two recorded names given one emulator name', () => {
    const a = actual();
    a.body.data.rows[1].sales_order = 'SAL-ORD-2026-00001';
    a.body.data.rows.push({ ...a.body.data.rows[0] });
    const d = compare(recorded, a, { subs: new Substitutions() });
    expect(d.map((x) => x.path)).toEqual(['$.body.data.rows', '$.body.data.rows[1].sales_order']);
    expect(d[1].problem).toMatch(/same name to SAL-ORD-2026-00014/);
  });

  it('requires Frappe\'s datetime format', () => {
    const a = actual();
    a.body.data.creation = '2026-12-02T20:01:21.000123';
    expect(paths(compare(recorded, a, { subs: new Substitutions() }))).toEqual(['$.body.data.creation']);
    a.body.data.creation = '2026-12-02 20:01:21.000000';
    expect(compare(recorded, a, { subs: new Substitutions() })[0].problem).toMatch(/zero microseconds/);
  });

  it('compares message texts after substituting names, and exc / __frappe_exc_id by shape', () => {
    const subs = new Substitutions();
    subs.learn('CRM-LEAD-2026-00038', 'CRM-LEAD-2026-00001', { unique: true });
    const msg = (text: string, id: string) => JSON.stringify([JSON.stringify({ message: text, title: 'Message', indicator: 'red', raise_exception: 1, __frappe_exc_id: id })]);
    const rec = { exc_type: 'LinkExistsError', exc: '["Traceback …line 131"]', _server_messages: msg('CRM Lead CRM-LEAD-2026-00038 is linked with Sync Request 1fnbdn4sf2', 'a'.repeat(56)) };
    const ok = { exc_type: 'LinkExistsError', exc: '["Traceback …line 9"]', _server_messages: msg('CRM Lead CRM-LEAD-2026-00001 is linked with Sync Request zz12zz34zz', 'b'.repeat(56)) };
    expect(compare(rec, ok, { subs })).toEqual([]);
    expect(subs.get('1fnbdn4sf2')).toBe('zz12zz34zz');
    const wrong = { ...ok, _server_messages: msg('CRM Lead CRM-LEAD-2026-00002 is linked with Sync Request zz12zz34zz', 'b'.repeat(56)) };
    expect(paths(compare(rec, wrong, { subs }))).toEqual(['$._server_messages(decoded)[0].message']);
  });

  it('matches datetimes inside a text by shape', () => {
    const subs = new Substitutions();
    const rec = 'modified after you opened it (2026-12-02 20:01:27.854866, 2026-12-02 20:01:27.913199). Please refresh';
    expect(compareText(rec, 'modified after you opened it (2026-12-02 20:01:22.1, 2026-12-02 20:01:22.2). Please refresh', subs)).toBe('text differs');
    expect(compareText(rec, 'modified after you opened it (2026-12-02 20:01:22.100000, 2026-12-02 20:01:22.200001). Please refresh', subs)).toBeNull();
    expect(compareText(rec, 'changed after you opened it (2026-12-02 20:01:22.100000, 2026-12-02 20:01:22.200001). Please refresh', subs)).toBe('text differs');
  });

  it('numeric names (HD Ticket) must stay numbers', () => {
    const subs = new Substitutions();
    expect(compare({ name: 10 }, { name: 1 }, { subs })).toEqual([]);
    expect(subs.get(10)).toBe(1);
    expect(paths(compare({ name: 10 }, { name: '1' }, { subs }))).toEqual(['$.name']);
  });
});

describe('exceptions', () => {
  const missing = { path: '$.body.data.image', problem: 'missing key' };
  const status = { path: '$.status', problem: 'value differs' };
  const row = { path: '$.body.data.rows[1].idx', problem: 'value differs' };
  it('a reason alone excuses the whole case', () => {
    expect([missing, status, row].every((d) => excuses({ reason: 'x' }, d))).toBe(true);
    expect(excuses(undefined, status)).toBe(false);
  });
  it('kinds excuse only those differences, paths only what is at or below them', () => {
    expect(excuses({ reason: 'x', problems: ['missing key'] }, missing)).toBe(true);
    expect(excuses({ reason: 'x', problems: ['missing key'] }, status)).toBe(false);
    expect(excuses({ reason: 'x', paths: ['$.body.data.rows'] }, row)).toBe(true);
    expect(excuses({ reason: 'x', paths: ['$.body.data.row'] }, row)).toBe(false);
    expect(excuses({ reason: 'x', paths: ['$.body.data.rows'], problems: ['missing key'] }, missing)).toBe(true);
    expect(excuses({ reason: 'x', paths: ['$.body.data.rows'], problems: ['missing key'] }, status)).toBe(false);
  });
});
