import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

/** The probe deadline is 2 s; the rest is room for a busy test machine. */
export const ANSWER_WITHIN_MS = 3_000;

/** GET /metrics: its text and how long it took. */
export async function scrape(t: TestApp): Promise<{ ms: number; text: string }> {
  const started = Date.now();
  const response = await fetch(`http://127.0.0.1:${t.httpPort}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { ms: Date.now() - started, text };
}

/** The value of one series (`name` or `name{labels}`), or null when /metrics leaves it out. */
export function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

/** GET /readyz: status, time and body. */
export async function readiness(t: TestApp): Promise<{ status: number; ms: number; body: { ready: boolean; checks: Record<string, { ok: boolean; error?: string }> } }> {
  const started = Date.now();
  const response = await fetch(`http://127.0.0.1:${t.httpPort}/readyz`);
  return { status: response.status, ms: Date.now() - started, body: (await response.json()) as never };
}
