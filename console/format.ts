/** Times and durations as the console's views show them. */
export function when(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export type Theme = 'gray' | 'blue' | 'green' | 'orange' | 'red';

export function themeOf(state: string): Theme {
  return state === 'failed' ? 'red' : state === 'completed' || state === 'done' ? 'green' : state === 'active' || state === 'running' ? 'blue' : 'orange';
}
