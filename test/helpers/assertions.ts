/** Assertions on Frappe's response envelope, shared by the REST contract suites. */
import { expect } from 'vitest';
import type { Reply } from './emulator.js';

export function rand(): string {
  return Math.random().toString(36).slice(2, 8);
}

/** `_server_messages` is a JSON string of a list of JSON strings (frappe/utils/response.py). */
export function serverMessages(body: any): any[] {
  expect(typeof body._server_messages).toBe('string');
  const outer = JSON.parse(body._server_messages);
  expect(Array.isArray(outer)).toBe(true);
  return outer.map((s: unknown) => {
    expect(typeof s).toBe('string');
    return JSON.parse(s as string);
  });
}

export function expectError(r: Reply, status: number, excType: string): void {
  expect({ status: r.status, exc_type: r.body?.exc_type }).toEqual({ status, exc_type: excType });
}
