/**
 * Bench results: every benchmark writes one JSON file `bench/results/<name>-<timestamp>.json`
 * (git-ignored) next to the printed tables; `writeResults` returns its path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A timestamp safe in file names: 20260101T120000. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

/** `bench/results` under the working directory (where `npm run bench` runs: the repo root). */
export function resultsDir(): string {
  return path.resolve('bench', 'results');
}

/** Write `data` as pretty JSON to bench/results/<name>-<timestamp>.json; returns the path. */
export function writeResults(name: string, data: unknown, when = new Date()): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${stamp(when)}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** Run `fn` repeatedly for at least `ms` milliseconds (and `minCalls` calls); returns calls and seconds. */
export async function timed(fn: () => unknown | Promise<unknown>, ms: number, minCalls = 1): Promise<{ calls: number; seconds: number }> {
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || calls < minCalls) {
    await fn();
    calls++;
  }
  return { calls, seconds: (performance.now() - t0) / 1000 };
}
