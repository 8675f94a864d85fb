/**
 * The solved threshold per environment (analysis/thresholds.ts) and how analyzeRun and
 * compareRuns measure and name it: sequence tasks 0.9, Acrobot -100, none for a user env,
 * CartPole's 475 without a source (its reports read as before).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../../analysis/analyzeRun.js';
import { compareRuns } from '../../../analysis/compare.js';
import { renderText } from '../../../analysis/format.js';
import { readRun, type RunData } from '../../../analysis/read.js';
import {
  ENV_THRESHOLDS,
  SEQ_THRESHOLD,
  envThreshold,
  resolveThreshold,
  thresholdText,
  thresholdsFor,
} from '../../../analysis/thresholds.js';
import { writeSynthRun, type SynthOptions } from '../../helpers/synthRun.js';

describe('the threshold table', () => {
  it("holds Gymnasium's reward_threshold, the Pendulum bar and 0.9 for every sequence task id", () => {
    expect(ENV_THRESHOLDS).toEqual({
      'CartPole-v1': 475,
      'Acrobot-v1': -100,
      'MountainCar-v0': -110,
      'MountainCarContinuous-v0': 90,
      'Pendulum-v1': -400,
    });
    expect(SEQ_THRESHOLD).toBe(0.9);
    for (const id of ['seq-reverse', 'seq-sort', 'seq-add', 'seq-reverse-v12-l6', 'seq-add-v10-l8']) expect(envThreshold(id)).toBe(0.9);
    expect(envThreshold('Acrobot-v1')).toBe(-100);
    for (const id of ['my-env', 'CartPole-v0', 'seq-bogus', 'toString', '']) expect(envThreshold(id)).toBeNull();
  });

  it('resolves: --threshold wins; else the shared default; else none, with the reason', () => {
    expect(resolveThreshold(['CartPole-v1'])).toEqual({ value: 475, source: 'CartPole-v1 default', shown: false });
    expect(resolveThreshold(['seq-reverse'])).toEqual({ value: 0.9, source: 'seq-reverse default', shown: true });
    expect(resolveThreshold(['seq-sort', 'seq-reverse', 'seq-sort']).value).toBe(0.9);
    expect(resolveThreshold(['Acrobot-v1']).value).toBe(-100);
    expect(resolveThreshold(['my-env'])).toEqual({ value: null, source: 'no default for my-env', shown: true });
    expect(resolveThreshold(['CartPole-v1', 'Acrobot-v1'])).toMatchObject({
      value: null,
      source: 'different defaults for Acrobot-v1, CartPole-v1',
    });
    expect(resolveThreshold(['seq-reverse'], { value: 0.5, source: '--threshold' })).toEqual({
      value: 0.5,
      source: '--threshold',
      shown: true,
    });
    expect(resolveThreshold(['my-env'], { value: 3, source: '--threshold' }).value).toBe(3);
    expect(resolveThreshold(['CartPole-v1'], { value: 475, source: 'the target return' }).shown).toBe(false);

    expect(thresholdText(resolveThreshold(['seq-reverse']))).toBe('>= 0.9 (seq-reverse default; --threshold to change)');
    expect(thresholdText(resolveThreshold(['CartPole-v1']))).toBe('>= 475');
    expect(thresholdText(resolveThreshold(['CartPole-v1'], { value: 300, source: '--threshold' }))).toBe('>= 300 (--threshold)');
    expect(thresholdText(resolveThreshold(['my-env']))).toBe('no threshold (no default for my-env; --threshold N sets one)');

    const per = thresholdsFor(['CartPole-v1', 'Acrobot-v1']);
    expect(typeof per).toBe('function');
    if (typeof per === 'function')
      expect([per('CartPole-v1').value, per('Acrobot-v1').value, per('my-env').value]).toEqual([475, -100, null]);
    expect(thresholdsFor(['CartPole-v1', 'Acrobot-v1'], { value: 1, source: '--threshold' })).toMatchObject({ value: 1 });
    expect(thresholdsFor(['seq-reverse', 'seq-add'])).toMatchObject({ value: 0.9 });
  });
});

const root = mkdtempSync(join(tmpdir(), 'isr-thr-'));
let n = 0;
async function run(o: SynthOptions): Promise<RunData> {
  const dir = join(root, `r${n++}`);
  writeSynthRun(dir, { updates: 10, stepsPerUpdate: 100, evalEvery: 1, ...o });
  return readRun(dir);
}
/** A sequence-task run whose mean reward rises linearly to `top` at 1000 steps. */
const seqRun = (env: string, top: number, seed = 0) => run({ env, seed, returnAt: (s) => (s / 1000) * top });

describe('analyzeRun and compareRuns with the resolved threshold', () => {
  it('a sequence run is measured against 0.9 and the outcome note says so', async () => {
    const r = await seqRun('seq-reverse', 1);
    const a = analyzeRun(r, resolveThreshold([r.config.env]));
    expect(a.figures.curve.threshold).toBe(0.9);
    expect(a.figures.curve.stepsToThreshold).toBe(900);
    const text = a.tables.map(renderText).join('\n');
    expect(text).toContain('steps to return >= 0.9 (held to the end)');
    expect(text).toContain('Steps to threshold: return >= 0.9 (seq-reverse default; --threshold to change).');
    expect(text).not.toContain('475');
  });

  it('an unknown env has no threshold: the figures are null and the rows say so', async () => {
    const r = await run({ env: 'my-env' });
    const a = analyzeRun(r, resolveThreshold([r.config.env]));
    expect(a.figures.curve).toMatchObject({ threshold: null, stepsToThreshold: null, firstReachedSteps: null });
    const text = a.tables.map(renderText).join('\n');
    expect(text).toMatch(/steps to threshold \(held to the end\) +- \(no threshold\)/);
    expect(text).toMatch(/first return >= threshold +- \(no threshold\)/);
    expect(text).toContain('Steps to threshold: no threshold (no default for my-env; --threshold N sets one).');
  });

  it('compare: seq runs reach 0.9, Acrobot -100; an unknown env shows -; mixed envs are measured per env', async () => {
    const seq = [await seqRun('seq-reverse', 1, 0), await seqRun('seq-reverse', 0.5, 1)];
    let c = compareRuns(seq, thresholdsFor(seq.map((r) => r.config.env)), { bootstrap: 100 });
    expect(c.figures.threshold).toBe(0.9);
    expect(c.figures.groups[0]!.reached).toBe(1);
    let groups = renderText(c.tables.find((t) => t.title.startsWith('Every group'))!);
    expect(groups).toContain('reached 0.9');
    expect(groups).toContain('first step from which the return stays >= 0.9 (seq-reverse default; --threshold to change) to the end');

    const acro = [await run({ env: 'Acrobot-v1', returnAt: (s) => -500 + (s / 1000) * 450 })];
    c = compareRuns(acro, thresholdsFor(['Acrobot-v1']), { bootstrap: 100 });
    expect(c.figures.threshold).toBe(-100);
    expect(c.figures.groups[0]).toMatchObject({ reached: 1, stepsToThresholdMean: 900 });

    const mine = [await run({ env: 'my-env' })];
    c = compareRuns(mine, thresholdsFor(['my-env']), { bootstrap: 100 });
    expect(c.figures.threshold).toBeNull();
    expect(c.figures.groups[0]!.reached).toBeNull();
    groups = renderText(c.tables.find((t) => t.title.startsWith('Every group'))!);
    expect(groups).toContain('reached threshold');
    expect(groups).toContain('steps to threshold: no threshold (no default for my-env; --threshold N sets one)');

    const mixed = [...seq, ...acro, ...mine];
    c = compareRuns(mixed, thresholdsFor(mixed.map((r) => r.config.env)), { bootstrap: 100 });
    expect(c.figures.threshold).toBeNull();
    expect(c.figures.thresholdByEnv).toEqual({ 'Acrobot-v1': -100, 'my-env': null, 'seq-reverse': 0.9 });
    expect(c.figures.groups.map((g) => [g.env, g.reached])).toEqual(
      expect.arrayContaining([
        ['Acrobot-v1', 1],
        ['my-env', null],
        ['seq-reverse', 1],
      ]),
    );
    groups = renderText(c.tables.find((t) => t.title.startsWith('Every group'))!);
    expect(groups).toContain('1/1 (>= -100)');
    expect(groups).toContain(
      'Acrobot-v1 >= -100 (Acrobot-v1 default), my-env none (no default for my-env), seq-reverse >= 0.9 (seq-reverse default)',
    );

    // An explicit threshold applies to every run.
    c = compareRuns(
      mixed,
      thresholdsFor(
        mixed.map((r) => r.config.env),
        { value: 0.4, source: '--threshold' },
      ),
      { bootstrap: 100 },
    );
    expect(c.figures.threshold).toBe(0.4);
    expect(c.figures.thresholdByEnv).toBeUndefined();
  });

  it('CartPole: the same figures and tables as with the plain number 475', async () => {
    const cp = [await run({ seed: 0 }), await run({ seed: 1, returnAt: (s) => s / 5 })];
    const byEnv = compareRuns(cp, thresholdsFor(['CartPole-v1', 'CartPole-v1']), { bootstrap: 100 });
    const plain = compareRuns(cp, 475, { bootstrap: 100 });
    expect(byEnv.figures).toEqual(plain.figures);
    expect(byEnv.tables).toEqual(plain.tables);
    expect(analyzeRun(cp[0]!, resolveThreshold(['CartPole-v1'])).tables).toEqual(analyzeRun(cp[0]!, 475).tables);
  });
});
