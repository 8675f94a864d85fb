/**
 * A run that cannot learn says so: an environment whose rewards (3e38 a step) make every
 * episode return overflow float32 has every rollout refused by the learner (NOT_FINITE,
 * BAD_REWARD). Instead of spinning through a budget of ten million steps, `train` stops once
 * CANNOT_LEARN_MS passed with at least CANNOT_LEARN_ROLLOUTS rollouts all refused, with the
 * reason, a summary marked failed, and exit 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';
import { CANNOT_LEARN_ROLLOUTS } from '../../learner/stopPolicy.js';
import type { SummaryRecord } from '../../protocol/records.js';

const HUGE = `export const envs = {
  'Huge-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 20 },
    create() {
      let t = 0;
      return { reset() { t = 0; return [0]; }, step() { t++; return { observation: [t / 20], reward: 3e38, terminated: false, truncated: false }; } };
    },
  },
};
`;

beforeAll(() => ensureBuilt(), 300_000);

describe('a run in which every rollout is refused', () => {
  it('stops with the reason and exit 1 instead of spending its budget', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-cannot-'));
    writeFileSync(join(dir, 'huge.mjs'), HUGE);
    const runDir = join(dir, 'run');
    const steps = 10_000_000;
    const r = await runCli(
      ['train', '--env-module', join(dir, 'huge.mjs'), '--env', 'Huge-v0', '--run-dir', runDir, ...smallRunArgs({ steps, quiet: true })],
      300_000,
    );
    const out = r.out + r.err;
    expect(r.code, out).toBe(1);
    expect(out).toMatch(
      /isreshape train: the run failed: cannot learn: all \d+ rollouts received in the last \d+ s were refused or dropped, none trained \(rejected NOT_FINITE \d+/,
    );
    expect(out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(s).toMatchObject({ failed: true, trained: 0, envSteps: 0 });
    expect(s.stopReason).toMatch(/^cannot learn: /);
    expect(s.rejected).toBeGreaterThanOrEqual(CANNOT_LEARN_ROLLOUTS);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected); // every rollout accounted
    const [why] = recordsOf<{ reason: string }>(join(runDir, 'learner.ndjson'), 'cannot-learn');
    expect(why!.reason).toBe(s.stopReason);
  }, 320_000);
});
