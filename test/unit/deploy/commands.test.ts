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
import { sweepCommand } from '../../../deploy/commands/sweep.js';
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
    // A stand-in CLI that records each cell's argv and fails the cell (nothing is trained).
    const fake = join(dir, 'fake-cli.mjs');
    const seen = join(dir, 'argv.ndjson');
    writeFileSync(
      fake,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(seen)}, JSON.stringify(process.argv.slice(2)) + '\\n');\nprocess.exit(3);\n`,
    );
    const sweep = (extra: string[]) =>
      runCommand(sweepCommand, ['sweep', '--cli', fake, '--methods', 'ppo', '--lags', '0', '--seeds', '1', '--parallel', '1', ...extra]);
    const argvOfCell = (): string[] => JSON.parse(readFileSync(seen, 'utf8').trim().split('\n').at(-1)!) as string[];
    const flag = (a: string[], f: string) => (a.includes(f) ? a[a.indexOf(f) + 1] : undefined);
    await expect(sweep(['--preset', 'seq', '--out', join(dir, 'a')])).rejects.toThrow(/every cell failed/);
    let a = argvOfCell();
    expect([flag(a, '--env'), flag(a, '--steps'), flag(a, '--preset'), flag(a, '--target-return')]).toEqual([
      'seq-reverse',
      '1000000',
      'seq',
      undefined,
    ]);
    await expect(sweep(['--preset', 'seq', '--steps', '5000', '--env', 'seq-sort', '--out', join(dir, 'b')])).rejects.toThrow(
      /every cell failed/,
    );
    a = argvOfCell();
    expect([flag(a, '--env'), flag(a, '--steps')]).toEqual(['seq-sort', '5000']);
    await expect(sweep(['--out', join(dir, 'c')])).rejects.toThrow(/every cell failed/);
    a = argvOfCell();
    expect([flag(a, '--env'), flag(a, '--steps'), flag(a, '--preset'), flag(a, '--target-return')]).toEqual([
      'CartPole-v1',
      '60000',
      'cartpole',
      '475',
    ]);
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
