/**
 * `eval` and `export` in-process on real checkpoint files (written by the learner's
 * CheckpointStore, as a run writes them): which checkpoint a run directory yields, the refusals
 * (missing target, no checkpoint, a corrupt one skipped, a config that does not match its model
 * hash), eval's figures and flags, and export's files for a categorical and a Gaussian policy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointStore } from '../../../learner/checkpoint.js';
import { modelSpecFor } from '../../../envs/registry.js';
import { logStdOffset } from '../../../model/params.js';
import { loadSavedPolicy } from '../../../deploy/savedPolicy.js';
import { evalCommand, meanStd } from '../../../deploy/commands/eval.js';
import { exportCommand } from '../../../deploy/commands/export.js';
import { UsageError } from '../../../deploy/errors.js';
import { tmp } from './helpers.js';
import { savedRun } from './savedRun.js';
import { runCommand, usageMessage } from './runCommand.js';

afterEach(() => vi.restoreAllMocks());

describe('loadSavedPolicy', () => {
  it("takes a run directory's newest checkpoint, or the checkpoint file given", async () => {
    const { dir, params } = savedRun('CartPole-v1', [2, 5]);
    const p = await loadSavedPolicy(dir, 'eval');
    expect(p).toMatchObject({ version: 5, envId: 'CartPole-v1', seed: 7, file: join(dir, 'checkpoints', CheckpointStore.fileName(5)) });
    expect(Array.from(p.params)).toEqual(Array.from(params));
    const older = await loadSavedPolicy(join(dir, 'checkpoints', CheckpointStore.fileName(2)), 'eval');
    expect(older.version).toBe(2);
    expect(Array.from(older.params)).not.toEqual(Array.from(params));
  });

  it('skips a corrupt newest checkpoint, naming it, when an older one verifies; refuses when none does', async () => {
    const { dir } = savedRun('CartPole-v1', [1, 3]);
    const newest = join(dir, 'checkpoints', CheckpointStore.fileName(3));
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(newest, bytes);
    expect((await loadSavedPolicy(dir, 'eval')).version).toBe(1);
    writeFileSync(join(dir, 'checkpoints', CheckpointStore.fileName(1)), 'not a checkpoint');
    await expect(loadSavedPolicy(dir, 'export')).rejects.toThrow(
      new RegExp(
        `^export: ${dir} has no valid checkpoint in checkpoints/ \\(skipped ${CheckpointStore.fileName(3)}: .+; ${CheckpointStore.fileName(1)}: `,
      ),
    );
  });

  it('refuses a missing target, an empty run directory, a bad file and a config that does not match its model hash', async () => {
    const root = tmp('isr-saved-');
    await expect(loadSavedPolicy(join(root, 'nope'), 'eval')).rejects.toThrow(/^eval: '.*nope' does not exist; give a run directory/);
    mkdirSync(join(root, 'empty'));
    await expect(loadSavedPolicy(join(root, 'empty'), 'eval')).rejects.toThrow(/has no valid checkpoint in checkpoints\/; train it first/);
    writeFileSync(join(root, 'junk.bin'), 'junk');
    await expect(loadSavedPolicy(join(root, 'junk.bin'), 'eval')).rejects.toThrow(/^eval: cannot load a policy from '.*junk\.bin': /);
    const { dir } = savedRun('CartPole-v1', [1], { hash: 12345 });
    const e = await loadSavedPolicy(dir, 'eval').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/model hash 12345 does not match its config/);
  });
});

describe('eval', () => {
  it('meanStd: the mean and the sample standard deviation (0 for one value)', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
  });

  it('--json prints one line {episodes, mean, std, greedy, version}; the same seed gives the same returns', async () => {
    const { dir } = savedRun('CartPole-v1', [4]);
    const r = await runCommand(evalCommand, ['eval', dir, '--episodes', '3', '--json', '--seed', '11']);
    expect(r.error).toBeUndefined();
    const j = JSON.parse(r.out) as { episodes: number; mean: number; std: number; greedy: boolean; version: number };
    expect(j).toMatchObject({ episodes: 3, greedy: false, version: 4 });
    // CartPole pays 1 per step, at most 500 steps.
    expect(j.mean).toBeGreaterThanOrEqual(1);
    expect(j.mean).toBeLessThanOrEqual(500);
    const again = await runCommand(evalCommand, ['eval', dir, '--episodes', '3', '--json', '--seed', '11']);
    expect(again.out).toBe(r.out);
  });

  it('prints a sentence without --json; --greedy acts by argmax', async () => {
    const { dir } = savedRun('CartPole-v1', [2]);
    const r = await runCommand(evalCommand, ['eval', dir, '--episodes', '2', '--greedy']);
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(
      /^isreshape eval: CartPole-v1 version 2 \(.*ckpt-0000000002\.bin\): mean return \d+\.\d \+- \d+\.\d \(std\) over 2 episodes, greedy actions\n$/,
    );
  });

  it('refuses --episodes 0 and --seed -1 by their rows, before loading anything', async () => {
    const dir = join(tmp('isr-saved-'), 'missing');
    expect(usageMessage(await runCommand(evalCommand, ['eval', dir, '--episodes', '0']))).toBe("--episodes: '0' is not a positive integer");
    expect(usageMessage(await runCommand(evalCommand, ['eval', dir, '--seed', '-1']))).toBe("--seed: '-1' is not an integer >= 0");
    expect(usageMessage(await runCommand(evalCommand, ['eval', dir]))).toMatch(/^eval: '.*missing' does not exist/);
  });
});

describe('export', () => {
  it('writes model.json, weights.bin and policy.json of a categorical policy', async () => {
    const { dir } = savedRun('CartPole-v1', [3]);
    const out = join(tmp('isr-exp-'), 'tfjs');
    const r = await runCommand(exportCommand, ['export', dir, '--out', out]);
    expect(r.error).toBeUndefined();
    for (const f of ['model.json', 'weights.bin', 'policy.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.out).toMatch(/^isreshape export: CartPole-v1 policy, version 3 .* input obs x 4, output logits x 2\n$/);
    const policy = JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8')) as { head: string; logStd: unknown; version: number };
    expect(policy).toMatchObject({ head: 'categorical', logStd: null, version: 3 });
  });

  it("a Gaussian policy's export carries its log-stds and the action box", async () => {
    const { dir, params } = savedRun('Pendulum-v1', [1]);
    const out = join(tmp('isr-exp-'), 'tfjs');
    const r = await runCommand(exportCommand, ['export', dir, '--out', out]);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain('output Gaussian mean x 1 (log-stds in policy.json)');
    const policy = JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8')) as {
      logStd: number[];
      box: { low: number[]; high: number[] };
    };
    expect(policy.logStd).toEqual([params[logStdOffset(modelSpecFor('Pendulum-v1', [8]))]]);
    expect(policy.box).toEqual({ low: [-2], high: [2] });
  });

  it('refuses another --format, an empty --out and a directory that is not empty', async () => {
    const { dir } = savedRun('CartPole-v1', [1]);
    const out = tmp('isr-exp-');
    expect(usageMessage(await runCommand(exportCommand, ['export', dir, '--format', 'onnx', '--out', join(out, 'x')]))).toBe(
      "--format: 'onnx' is not accepted; expected tfjs",
    );
    expect(usageMessage(await runCommand(exportCommand, ['export', dir, '--out', ' ']))).toBe('--out: name the output directory');
    writeFileSync(join(out, 'keep.txt'), 'x');
    expect(usageMessage(await runCommand(exportCommand, ['export', dir, '--out', out]))).toMatch(/^--out: .* exists and is not empty/);
  });
});
