/**
 * --deterministic: a run is a function of its config and seed. Two runs with the same config
 * and seed write identical update records apart from timestamps and throughput figures
 * (time, fps, queueDepth, pid, runId); a different seed gives different records.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli } from '../helpers/cli.js';

const FLAGS = [
  '--deterministic',
  '--actors',
  '2',
  '--workers',
  '2',
  '--envs-per-worker',
  '2',
  '--segment-steps',
  '16',
  '--batch-segments',
  '4',
  '--steps',
  '2500',
  '--eval-every',
  '4',
  '--eval-episodes',
  '3',
  '--final-eval-episodes',
  '3',
  '--lag',
  'uniform:0-3',
  '--method',
  'v5',
  '--quiet',
];
const VOLATILE = ['time', 'fps', 'queueDepth', 'pid', 'runId', 'timeMs'];

async function run(seed: number, extra: string[] = []): Promise<Record<string, unknown>[]> {
  const dir = join(mkdtempSync(join(tmpdir(), 'isr-det-')), 'run');
  const r = await runCli(['train', ...FLAGS, ...extra, '--seed', String(seed), '--run-dir', dir]);
  expect(r.code, r.out + r.err).toBe(0);
  return recordsOf(join(dir, 'learner.ndjson'), 'update').map((u) => {
    for (const k of VOLATILE) delete u[k];
    return u;
  });
}

beforeAll(() => ensureBuilt(), 300_000);

describe('deterministic mode', () => {
  it('same config and seed: identical update records; another seed: different ones', async () => {
    const a = await run(3);
    const b = await run(3);
    expect(a.length).toBeGreaterThan(10);
    expect(a.some((u) => u.eval !== undefined)).toBe(true);
    expect(b).toEqual(a);
    const c = await run(4);
    expect(c).not.toEqual(a);
  });

  it('with --learner-threads 2: identical update records run to run', async () => {
    const a = await run(3, ['--learner-threads', '2']);
    const b = await run(3, ['--learner-threads', '2']);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  }, 180_000);

  it('the trainer thread changes nothing: identical update records with --no-trainer-thread', async () => {
    const a = await run(5);
    const b = await run(5, ['--no-trainer-thread']);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  }, 180_000);
});
