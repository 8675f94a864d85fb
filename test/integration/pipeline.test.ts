/**
 * End to end over real processes, real ZeroMQ sockets on loopback and real worker threads:
 * `isreshape train` with 2 actor processes on a short budget.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli } from '../helpers/cli.js';
import type { SummaryRecord, UpdateRecord } from '../../protocol/records.js';

const SMALL = [
  '--actors',
  '2',
  '--workers',
  '1',
  '--envs-per-worker',
  '4',
  '--segment-steps',
  '16',
  '--epochs',
  '1',
  '--minibatches',
  '2',
  '--eval-every',
  '5',
  '--eval-episodes',
  '3',
  '--final-eval-episodes',
  '5',
  '--quiet',
];

function tmpRun(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'isr-pipe-')), name);
}

async function train(
  name: string,
  extra: string[],
): Promise<{ dir: string; updates: UpdateRecord[]; summary: SummaryRecord; out: string }> {
  const dir = tmpRun(name);
  const r = await runCli(['train', ...SMALL, '--run-dir', dir, ...extra]);
  expect(r.code, `train exited ${r.code}\n${r.out}\n${r.err}`).toBe(0);
  const updates = recordsOf<UpdateRecord>(join(dir, 'learner.ndjson'), 'update');
  const [summary] = recordsOf<SummaryRecord>(join(dir, 'learner.ndjson'), 'summary');
  return { dir, updates, summary, out: r.out };
}

beforeAll(() => ensureBuilt(), 300_000);

describe('isreshape train (2 actor processes)', () => {
  it('lag 0: versions increase by one, every rollout is accounted for, ESS > 0.999 and |log w| <= 1e-5', async () => {
    const { updates, summary, out } = await train('lag0', ['--steps', '3000', '--method', 'v5', '--floor', 'neg-is']);
    expect(updates.length).toBeGreaterThan(10);
    updates.forEach((u, i) => expect(u.version).toBe(i + 1));
    for (const u of updates) {
      expect(u.lag).toEqual({ min: 0, mean: 0, max: 0 });
      expect(u.ess).toBeGreaterThan(0.999);
      expect(u.maxAbsLogRatio).toBeLessThanOrEqual(1e-5);
      expect(u.backend).toMatch(/^(js|tensorflow|wasm|cpu)$/); // js: the default float64 path (tfjs is loaded only for --grad tfjs)
      expect(Number.isFinite(u.policyLoss) && Number.isFinite(u.valueLoss) && Number.isFinite(u.gradNorm)).toBe(true);
    }
    expect(updates.some((u) => u.eval !== undefined)).toBe(true);
    // Accounting: every rollout received was trained, dropped with a reason or rejected.
    expect(summary.received).toBe(summary.trained + summary.dropped + summary.rejected);
    expect(summary.trained).toBe(updates.length * 2);
    expect(summary.lost).toBe(0);
    expect(summary.rejected).toBe(0);
    for (const reason of Object.keys(summary.dropReasons)) expect(reason).toBe('shutdown');
    expect(summary.finalEval?.episodes).toBe(5);
    expect(out).toMatch(/final evaluation of the current policy over 5 episodes/);
  });

  it('--lag fixed:8 gives a logged lag mean in [7, 9] and ESS below 1', async () => {
    const { updates, summary } = await train('lag8', ['--steps', '6000', '--method', 'ppo', '--lag', 'fixed:8']);
    const samples = updates.reduce((s, u) => s + u.samples, 0);
    const lagMean = updates.reduce((s, u) => s + u.lag.mean * u.samples, 0) / samples;
    expect(lagMean).toBeGreaterThanOrEqual(7);
    expect(lagMean).toBeLessThanOrEqual(9);
    // Once versions 0..8 exist the injected lag is exactly 8.
    for (const u of updates.filter((x) => x.version > 9)) expect(u.lag.mean).toBe(8);
    const late = updates.filter((x) => x.version > 9);
    expect(late.every((u) => u.ess < 1)).toBe(true);
    expect(late.some((u) => u.lagBuckets['8-15'] && u.lagBuckets['8-15'].n > 0)).toBe(true);
    expect(summary.received).toBe(summary.trained + summary.dropped + summary.rejected);
  });

  it('--max-lag drops too-stale rollouts with the reason and trains only on admitted ones', async () => {
    const { updates, summary } = await train('maxlag', [
      '--steps',
      '3000',
      '--time',
      '120',
      '--method',
      'vtrace',
      '--lag',
      'uniform:0-8',
      '--max-lag',
      '4',
    ]);
    expect(updates.length).toBeGreaterThan(5);
    for (const u of updates) expect(u.lag.max).toBeLessThanOrEqual(4);
    expect(summary.dropReasons.stale).toBeGreaterThan(0);
    expect(summary.received).toBe(summary.trained + summary.dropped + summary.rejected);
    expect(summary.lost).toBe(0);
  });
});
