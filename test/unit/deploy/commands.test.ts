/**
 * Command handlers run in-process through their real yargs builders, on the paths that end
 * before any process, socket or tensor backend is started: option and config handling.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { weightsCommand } from '../../../deploy/commands/weights.js';
import { trainCommand } from '../../../deploy/commands/train.js';
import { learnerCommand } from '../../../deploy/commands/learner.js';
import { actorCommand } from '../../../deploy/commands/actor.js';
import { makeSweepCommand, sweepCommand } from '../../../deploy/commands/sweep.js';
import { analyzeCommand } from '../../../deploy/commands/analyze.js';
import { compareCommand } from '../../../deploy/commands/compare.js';
import type { CellRunner } from '../../../deploy/sweepGrid.js';
import { writeSynthRun, type SynthOptions } from '../../helpers/synthRun.js';
import { runCommand as runCommandCapturing } from './runCommand.js';
import { buildConfig } from '../../../deploy/options.js';
import { writeRunConfig } from '../../../deploy/runConfig.js';
import { UsageError } from '../../../deploy/errors.js';
import { argvOf, tmp } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function runCommand(cmd: CommandModule<any, any>, args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    await yargs(args)
      .command(cmd)
      .strict()
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseAsync();
  } finally {
    spy.mockRestore();
  }
  return out;
}

/** The UsageError message `p` rejects with (fails the test if it resolves or throws something else). */
async function usage(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return (err as Error).message;
}

afterEach(() => vi.restoreAllMocks());

/** Sweep flags for a grid of one cell. */
const SWEEP_ONE_CELL = ['--methods', 'ppo', '--lags', '0', '--seeds', '1', '--parallel', '1'];

describe('weights validates its objective flags with the same rows as train', () => {
  for (const [flag, value] of [
    ['eps', '1.5'],
    ['eps', '0'],
    ['tau-h', 'abc'],
    ['gamma-base', '0.95'],
    ['floor', 'zero'],
  ] as const) {
    it(`--${flag} ${value}: the same error as train`, async () => {
      const w = await usage(runCommand(weightsCommand, ['weights', `--${flag}`, value]));
      let t: string | null = null;
      try {
        buildConfig(argvOf([`--${flag}`, value]));
      } catch (e) {
        t = (e as Error).message;
      }
      expect(w).toBe(t);
      expect(w.startsWith(`--${flag}`)).toBe(true);
    });
  }

  it('a missing value names the flag', async () => {
    expect(await usage(runCommand(weightsCommand, ['weights', '--eps', '']))).toMatch(/^--eps: missing value/);
  });

  it('prints the overview, the JSON contract and the batch stats', async () => {
    expect(await runCommand(weightsCommand, ['weights', '--floor', 'neg-is'])).toMatch(/floor=neg-is/);
    const rows = JSON.parse(
      await runCommand(weightsCommand, ['weights', '--method', 'ppo', '--eps', '0.2', '--w', '0.5,2', '--a', '1,-1', '--json']),
    ) as { w: number; A: number; g: number }[];
    expect(rows.map((r) => [r.w, r.A, r.g])).toEqual([
      [0.5, 1, 0.5],
      [0.5, -1, 0],
      [2, 1, 0],
      [2, -1, 2],
    ]);
    const stats = JSON.parse(await runCommand(weightsCommand, ['weights', '--stats', '--w', '1,1', '--json'])) as Record<string, number>;
    expect(stats.ess).toBe(1);
    expect(await runCommand(weightsCommand, ['weights', '--method', 'v5', '--sft-trust', '--w', '1', '--a', '1'])).toMatch(/gamma/);
  });

  it('--plot writes an SVG', async () => {
    const f = join(tmp(), 'g.svg');
    expect(await runCommand(weightsCommand, ['weights', '--plot', f, '--method', 'ppo'])).toMatch(/wrote/);
    expect(readFileSync(f, 'utf8')).toMatch(/^<svg/);
  });
});

describe('no command writes into an existing run directory', () => {
  it('train refuses an existing --run-dir and --join', async () => {
    const dir = tmp();
    expect(await usage(runCommand(trainCommand, ['train', '--run-dir', dir, '--quiet']))).toBe(
      `--run-dir: ${dir} already exists; a new run never writes into an existing run directory: pick another --run-dir or remove it`,
    );
    expect(await usage(runCommand(trainCommand, ['train', '--config', 'x', '--join']))).toMatch(/Unknown argument: join/); // train always starts a new run
  });

  it('learner refuses an existing --run-dir, even with --config from a finished run', async () => {
    const old = join(tmp(), 'old');
    const saved = writeRunConfig(buildConfig(argvOf(['--run-dir', old])));
    writeFileSync(join(old, 'learner.ndjson'), '{"kind":"summary"}\n');
    expect(await usage(runCommand(learnerCommand, ['learner', '--config', saved, '--run-dir', old, '--steps', '100']))).toMatch(
      /^--run-dir: .* already exists/,
    );
    // Joining a run that already has its learner is refused too: one learner per run.
    expect(await usage(runCommand(learnerCommand, ['learner', '--config', saved, '--join']))).toMatch(/already has a learner log/);
    expect(readFileSync(join(old, 'learner.ndjson'), 'utf8')).toBe('{"kind":"summary"}\n');
  });

  it('actor refuses an existing --run-dir, a bad --actor-id, and a second actor with the same id', async () => {
    const dir = join(tmp(), 'run');
    writeRunConfig(buildConfig(argvOf(['--run-dir', dir])));
    expect(await usage(runCommand(actorCommand, ['actor', '--connect', 'tcp://127.0.0.1:1', '--run-dir', dir]))).toMatch(
      /^--run-dir: .* already exists/,
    );
    expect(await usage(runCommand(actorCommand, ['actor', '--connect', 'tcp://127.0.0.1:1', '--actor-id', '-1']))).toMatch(
      /^--actor-id: -1/,
    );
    writeFileSync(join(dir, 'actor-0.ndjson'), '');
    expect(await usage(runCommand(actorCommand, ['actor', '--connect', 'tcp://127.0.0.1:1', '--run-dir', dir, '--join']))).toMatch(
      /already has a log for actor 0/,
    );
  });

  it("sweep --preset seq runs the preset's environment and steps (the sweep's CartPole defaults apply only without a preset)", async () => {
    const dir = tmp();
    // A cell runner that records each cell's train argv and fails the cell (nothing is trained).
    let seen: readonly string[] = [];
    const sweep = (...extra: string[]) =>
      runCommandCapturing(
        makeSweepCommand({
          runCell: async (cell) => {
            seen = cell.args;
            return 3;
          },
        }),
        ['sweep', ...SWEEP_ONE_CELL, ...extra],
      );
    const flags = (...names: string[]) => names.map((f) => (seen.includes(f) ? seen[seen.indexOf(f) + 1] : undefined));
    expect(String((await sweep('--preset', 'seq', '--out', join(dir, 'a'))).error)).toMatch(/every cell failed/);
    expect(flags('--env', '--steps', '--preset', '--target-return')).toEqual(['seq-reverse', '1000000', 'seq', undefined]);
    await sweep('--preset', 'seq', '--steps', '5000', '--env', 'seq-sort', '--out', join(dir, 'b'));
    expect(flags('--env', '--steps')).toEqual(['seq-sort', '5000']);
    await sweep('--out', join(dir, 'c'));
    expect(flags('--env', '--steps', '--preset', '--target-return')).toEqual(['CartPole-v1', '60000', 'cartpole', '475']);
  });

  it('sweep checks its --config file before starting any cell', async () => {
    const out = join(tmp(), 'sw');
    const bad = join(tmp(), 'c.yaml');
    writeFileSync(bad, 'eps: 2\n');
    expect(
      await usage(runCommand(sweepCommand, ['sweep', '--config', bad, '--out', out, '--methods', 'ppo', '--lags', '0', '--seeds', '1'])),
    ).toMatch(/^--eps: 2 \(in .*c.yaml\)/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('analyze, compare and sweep measure "solved" against the environment\'s threshold unless --threshold is given', () => {
  const synth = (dir: string, o: SynthOptions) => writeSynthRun(dir, { updates: 10, stepsPerUpdate: 100, evalEvery: 1, ...o });
  const seqReturn = (s: number) => s / 1000; // mean reward 0.9 at 900 steps

  it('analyze: seq-reverse 0.9, Acrobot-v1 -100, a user env none, --threshold wins, CartPole as before', async () => {
    const root = tmp('isr-thr-');
    synth(join(root, 'seq'), { env: 'seq-reverse', returnAt: seqReturn });
    synth(join(root, 'acro'), { env: 'Acrobot-v1', returnAt: (s) => -500 + (s / 1000) * 450 });
    synth(join(root, 'mine'), { env: 'my-env' });
    synth(join(root, 'cp'), {});
    const analyze = async (dir: string, ...extra: string[]) => {
      const r = await runCommandCapturing(analyzeCommand, ['analyze', join(root, dir), '--json', ...extra]);
      expect(r.error).toBeUndefined();
      return (JSON.parse(r.out) as { curve: { threshold: number | null; stepsToThreshold: number | null } }).curve;
    };
    expect(await analyze('seq')).toMatchObject({ threshold: 0.9, stepsToThreshold: 900 });
    expect(await analyze('acro')).toMatchObject({ threshold: -100, stepsToThreshold: 900 });
    expect(await analyze('mine')).toMatchObject({ threshold: null, stepsToThreshold: null });
    expect(await analyze('cp')).toMatchObject({ threshold: 475 });
    expect(await analyze('seq', '--threshold', '0.5')).toMatchObject({ threshold: 0.5, stepsToThreshold: 500 });
    expect(await analyze('mine', '--threshold', '100')).toMatchObject({ threshold: 100 });

    const text = (await runCommandCapturing(analyzeCommand, ['analyze', join(root, 'seq')])).out;
    expect(text).toContain('steps to return >= 0.9 (held to the end)');
    expect(text).toContain('Steps to threshold: return >= 0.9 (seq-reverse default; --threshold to change).');
    const cp = (await runCommandCapturing(analyzeCommand, ['analyze', join(root, 'cp')])).out;
    expect(cp).toContain('steps to return >= 475 (held to the end)');
    expect(cp).not.toContain('Steps to threshold:');
    expect(await usage(runCommand(analyzeCommand, ['analyze', join(root, 'seq'), '--threshold', 'abc']))).toMatch(/--threshold/);
  });

  it("compare: the runs' env default, per env when they differ, --threshold for all; CartPole as before", async () => {
    const root = tmp('isr-thr-');
    for (const seed of [0, 1])
      synth(join(root, 'seq', `s${seed}`), { env: 'seq-reverse', seed, returnAt: (s) => seqReturn(s) * (seed ? 0.5 : 1) });
    synth(join(root, 'acro', 'a0'), { env: 'Acrobot-v1', returnAt: (s) => -500 + (s / 1000) * 450 });
    synth(join(root, 'mine', 'm0'), { env: 'my-env' });
    for (const seed of [0, 1]) synth(join(root, 'cp', `c${seed}`), { seed });
    const compare = async (...args: string[]) => {
      const r = await runCommandCapturing(compareCommand, ['compare', ...args, '--bootstrap', '100', '--out', join(root, 'out')]);
      expect(r.error).toBeUndefined();
      return r.out;
    };
    let out = await compare(join(root, 'seq'));
    expect(out).toContain('reached 0.9');
    expect(out).toMatch(/ 1\/2 +/);
    expect(out).toContain(
      'steps to threshold: first step from which the return stays >= 0.9 (seq-reverse default; --threshold to change) to the end',
    );
    expect(out).not.toContain('475');

    out = await compare(join(root, 'acro'));
    expect(out).toContain('reached -100');
    out = await compare(join(root, 'mine'));
    expect(out).toContain('reached threshold');
    expect(out).toContain('steps to threshold: no threshold (no default for my-env; --threshold N sets one)');

    out = await compare(join(root, 'seq'), join(root, 'acro'), join(root, 'mine'));
    expect(out).toContain('reached threshold');
    expect(out).toContain('(>= -100)');
    expect(out).toContain(
      'Acrobot-v1 >= -100 (Acrobot-v1 default), my-env none (no default for my-env), seq-reverse >= 0.9 (seq-reverse default)',
    );

    out = await compare(join(root, 'seq'), '--threshold', '0.4');
    expect(out).toContain('reached 0.4');
    expect(out).toMatch(/ 2\/2 +/);
    expect(out).toContain('stays >= 0.4 (--threshold) to the end');

    out = await compare(join(root, 'cp'));
    expect(out).toContain('reached 475');
    expect(out).toContain('steps to threshold: first step from which the return stays >= 475 to the end.');
  });

  it('sweep: the target return on CartPole (as before); the env default on a sequence task; --threshold wins', async () => {
    const root = tmp('isr-thr-');
    const runner =
      (returnAt: (s: number) => number, env?: string): CellRunner =>
      async (cell, logFile) => {
        writeFileSync(logFile, 'fake train\n');
        synth(cell.runDir, { method: cell.spec.method, label: cell.spec.label, seed: cell.seed, returnAt, ...(env ? { env } : {}) });
        return 0;
      };
    const sweep = async (cellRunner: CellRunner, ...args: string[]) => {
      const r = await runCommandCapturing(makeSweepCommand({ runCell: cellRunner }), ['sweep', ...SWEEP_ONE_CELL, ...args]);
      expect(r.error).toBeUndefined();
      return r.out;
    };
    let out = await sweep(
      runner((s) => s / 2),
      '--steps',
      '1000',
      '--out',
      join(root, 'cp'),
    );
    expect(out).toContain('target return 475');
    expect(out).toContain('reached 475');
    expect(out).toContain('steps to threshold: first step from which the return stays >= 475 to the end.');

    out = await sweep(runner(seqReturn, 'seq-reverse'), '--preset', 'seq', '--steps', '1000', '--out', join(root, 'seq'));
    expect(out).toContain('reached 0.9');
    expect(out).toContain('stays >= 0.9 (seq-reverse default; --threshold to change) to the end');
    expect(out).not.toContain('475');

    out = await sweep(
      runner(seqReturn, 'seq-reverse'),
      '--preset',
      'seq',
      '--steps',
      '1000',
      '--threshold',
      '0.5',
      '--out',
      join(root, 'seq2'),
    );
    expect(out).toContain('reached 0.5');
    expect(out).toContain('stays >= 0.5 (--threshold) to the end');

    out = await sweep(
      runner((s) => -500 + (s / 1000) * 450, 'Acrobot-v1'),
      '--env',
      'Acrobot-v1',
      '--steps',
      '1000',
      '--target-return=-150',
      '--out',
      join(root, 'acro'),
    );
    expect(out).toContain('reached -150');
    expect(out).toContain('stays >= -150 (the target return; --threshold to change) to the end');
  });
});
