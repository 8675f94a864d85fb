/**
 * `--env-module`: a user's environment module written into a temp folder outside the project
 * is trained on end to end by the real CLI (learner, actor processes and their worker threads,
 * the evaluation thread all load it), with continuous actions (the Gaussian policy). Bad
 * modules and unknown envs exit 2 with one line naming what is wrong; an env that returns a
 * NaN observation at run time stops the actor that stepped it (logged as actor-error, exit 1)
 * with the message, and the run fails naming it; nothing is trained on.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';
import type { SummaryRecord, UpdateRecord } from '../../protocol/records.js';

// The README's example ("Your own environment"), verbatim.
const MYENV = `// myenv.mjs: move a point to a target on a line with a force in [-1, 1]
export const envs = {
  'My-v0': {
    spec: { observationSize: 2, action: { type: 'box', low: [-1], high: [1] }, maxEpisodeSteps: 50 },
    create() {
      let x = 0, target = 0;
      return {
        reset(seed) { x = 0; target = (seed % 200) / 100 - 1; return [x, target]; },
        step(action) {
          x = Math.max(-2, Math.min(2, x + 0.1 * action[0]));
          return { observation: [x, target], reward: -Math.abs(x - target), terminated: false, truncated: false };
        },
      };
    },
  },
};
`;

// NaN at step 3 of an instance's second episode: the learner's evaluation thread runs one
// episode per instance (random baseline), so only the actors, whose envs run on, meet it.
const NAN_ENV = `export const envs = {
  'Nan-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 10 },
    create() {
      let t = 0, ep = 0;
      return { reset() { t = 0; ep++; return [0]; }, step() { t++; return { observation: [ep === 2 && t === 3 ? NaN : t], reward: 1, terminated: false, truncated: false }; } };
    },
  },
};
`;

const SMALL = smallRunArgs({ quiet: true });

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'isr-envmod-'));
  writeFileSync(join(dir, 'myenv.mjs'), MYENV);
  writeFileSync(join(dir, 'nanenv.mjs'), NAN_ENV);
  writeFileSync(
    join(dir, 'badspec.mjs'),
    `export const envs = { 'Bad-v0': { spec: { observationSize: 0, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 }, create() { return {}; } } };\n`,
  );
}, 300_000);

describe('isreshape train --env-module', () => {
  it("the README's example is the module trained here", () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(MYENV);
  });

  it('trains a continuous-action env from a module outside the project, end to end', async () => {
    const run = join(dir, 'run-my');
    const r = await runCli([
      'train',
      '--env-module',
      join(dir, 'myenv.mjs'),
      '--env',
      'My-v0',
      '--steps',
      '640',
      '--run-dir',
      run,
      ...SMALL,
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { env: string; envModule: string };
    expect(cfg).toMatchObject({ env: 'My-v0', envModule: join(dir, 'myenv.mjs') });
    const updates = recordsOf<UpdateRecord>(join(run, 'learner.ndjson'), 'update');
    expect(updates.length).toBeGreaterThanOrEqual(2);
    // Gaussian entropy with log std near 0: about 0.5 (1 + log 2 pi) = 1.419 per dimension.
    expect(Math.abs(updates[0].entropy - 1.419)).toBeLessThan(0.05);
    const [s] = recordsOf<SummaryRecord>(join(run, 'learner.ndjson'), 'summary');
    expect(s.rejected).toBe(0);
    expect(s.trained).toBeGreaterThan(0);
    expect(s.finalEval?.episodes).toBe(3);
    // 50 steps of reward -|x - target| >= -3 each: a finite return in [-150, 0].
    expect(s.finalEval!.stochastic).toBeLessThanOrEqual(0);
    expect(s.finalEval!.stochastic).toBeGreaterThanOrEqual(-150);
  }, 240_000);

  it('an env not in any loaded module exits 2 naming --env and the known ids', async () => {
    const r = await runCli(['train', '--env', 'My-v0', '--steps', '64', '--run-dir', join(dir, 'run-x')]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      "isreshape: --env: 'My-v0' is not a known environment; known: CartPole-v1, Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0, Pendulum-v1, seq-reverse, seq-sort, seq-add; load your own with --env-module FILE",
    );
  }, 60_000);

  it('a missing module or an invalid spec exits 2 naming the module and what is wrong', async () => {
    const missing = await runCli(['train', '--env-module', join(dir, 'nope.mjs'), '--env', 'My-v0', '--run-dir', join(dir, 'run-y')]);
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe(`isreshape: --env-module: env module ${join(dir, 'nope.mjs')}: file not found`);
    const bad = await runCli(['train', '--env-module', join(dir, 'badspec.mjs'), '--env', 'Bad-v0', '--run-dir', join(dir, 'run-z')]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toBe(
      `isreshape: --env-module: env module ${join(dir, 'badspec.mjs')}: env 'Bad-v0': spec.observationSize must be a positive integer, got 0`,
    );
  }, 60_000);

  it('a NaN observation at run time: the actor logs it and exits non-zero with the message; the run fails naming it', async () => {
    const run = join(dir, 'run-nan');
    const r = await runCli([
      'train',
      '--env-module',
      join(dir, 'nanenv.mjs'),
      '--env',
      'Nan-v0',
      '--no-restart-actors', // the run ends with the first failure (a restart would meet the same NaN)
      '--steps',
      '100000',
      '--run-dir',
      run,
      ...SMALL,
    ]);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(/actor 0 exited with code 1/);
    expect(r.out + r.err).toMatch(/env 'Nan-v0': step returned observation\[0\] = NaN; observations must be finite numbers/);
    const [e] = recordsOf<{ error: string }>(join(run, 'actor-0.ndjson'), 'actor-error');
    expect(e.error).toMatch(/env 'Nan-v0': step returned observation\[0\] = NaN/);
    const [s] = recordsOf<SummaryRecord>(join(run, 'learner.ndjson'), 'summary');
    expect(s === undefined || s.trained === 0).toBe(true); // nothing of that env reached training
  }, 120_000);
});
