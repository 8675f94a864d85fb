/**
 * `sweep --vary FLAG=V1,V2`: parsing and checking each value with the flag's schema row, the
 * grid's cells and their train arguments, and the sweep command run in-process with a fake
 * cell runner (no child processes) that writes synthetic runs: cell names, resume, failures,
 * and the closing comparison grouped on the varied flag.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkVaryClashes,
  parseMethods,
  parseVary,
  sweepCells,
  VARY_FLAGS,
  varySlug,
  type CellRunner,
  type SweepCell,
} from '../../../deploy/sweepGrid.js';
import { makeSweepCommand, sweepCommand } from '../../../deploy/commands/sweep.js';
import { FIELD_BY_FLAG, parseField, setKey } from '../../../deploy/schema.js';
import { UsageError } from '../../../deploy/errors.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { tmp } from './helpers.js';
import { runCommand, usageMessage } from './runCommand.js';

afterEach(() => vi.restoreAllMocks());

const err = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('parseVary', () => {
  it('takes repeated FLAG=V1,V2 axes, checked and normalised by the schema row', () => {
    expect(parseVary(undefined)).toEqual([]);
    expect(parseVary(['tau-h=1,1.50,2', 'gamma-base=0.1, 0.3', 'floor=const,neg-is'])).toEqual([
      { flag: 'tau-h', values: ['1', '1.5', '2'] },
      { flag: 'gamma-base', values: ['0.1', '0.3'] },
      { flag: 'floor', values: ['const', 'neg-is'] },
    ]);
    expect(parseVary('sft-trust=true,false')).toEqual([{ flag: 'sft-trust', values: ['true', 'false'] }]);
    expect(parseVary('hidden=64,64/32')).toEqual([{ flag: 'hidden', values: ['64,64', '32'] }]);
  });

  it('names the flag and the value it refuses', () => {
    expect(err(() => parseVary(['tau-h']))).toBe("--vary: 'tau-h' is not FLAG=V1,V2,...; e.g. --vary tau-h=1,1.5,2");
    expect(err(() => parseVary(['tauh=1']))).toMatch(/^--vary: unknown training flag 'tauh'/);
    expect(err(() => parseVary(['gamma-base=0.1,1.5']))).toBe(
      "--vary: --gamma-base: '1.5' is not accepted; expected a finite number in [0, 1]",
    );
    expect(err(() => parseVary(['floor=const,none']))).toBe("--vary: --floor: 'none' is not accepted; expected one of const, neg-is, max1");
    expect(err(() => parseVary(['tau-c=1,,2']))).toBe("--vary: tau-c: empty value in '1,,2'; e.g. --vary tau-c=V1,V2");
    expect(err(() => parseVary(['tau-c=1,1.0']))).toBe("--vary: tau-c: value '1' given twice");
    expect(err(() => parseVary(['tau-c=1', 'tau-c=2']))).toMatch(/^--vary: tau-c given twice/);
    expect(err(() => parseVary(['lag=fixed:4']))).toBe('--vary: lag cannot be varied: use --lags');
    expect(err(() => parseVary(['seed=1,2']))).toBe('--vary: seed cannot be varied: use --seeds');
    expect(err(() => parseVary(['run-dir=a,b']))).toMatch(/^--vary: run-dir cannot be varied/);
  });

  it("every training flag but the sweep's own is sweepable", () => {
    for (const f of ['tau-h', 'tau-c', 'gamma-base', 'gamma-max', 'floor', 'lr', 'actors', 'hidden']) expect(VARY_FLAGS).toContain(f);
    for (const f of ['method', 'lag', 'seed', 'env', 'steps', 'preset', 'target-return', 'run-dir', 'run-id'])
      expect(VARY_FLAGS).not.toContain(f);
  });

  it('refuses a varied flag that a --methods option or --extra also sets', () => {
    const axes = parseVary(['floor=const,neg-is']);
    expect(err(() => checkVaryClashes(axes, parseMethods('v5,v5:floor=neg-is'), []))).toBe(
      "--vary: floor is also set by --methods 'v5 floor=neg-is'; set it in one place",
    );
    expect(err(() => checkVaryClashes(parseVary(['lr=1e-3']), parseMethods('ppo'), ['--lr', '2e-3']))).toBe(
      '--vary: lr is also set in --extra; set it in one place',
    );
    expect(err(() => checkVaryClashes(parseVary(['anneal-lr=true']), parseMethods('ppo'), ['--no-anneal-lr']))).toMatch(
      /anneal-lr is also set in --extra/,
    );
    expect(() => checkVaryClashes(axes, parseMethods('ppo,v5'), ['--lr', '1e-3'])).not.toThrow();
  });
});

describe('the grid with --vary axes', () => {
  it('is the product methods x axes x lags x seeds, each cell named by and given its values', () => {
    const vary = parseVary(['tau-h=1,2', 'sft-trust=true,false']);
    const cells = sweepCells({
      methods: parseMethods('ppo,v5'),
      lags: [0, 4],
      seeds: 1,
      env: 'CartPole-v1',
      steps: 100,
      out: 'o',
      extra: [],
      vary,
    });
    expect(cells).toHaveLength(2 * 2 * 2 * 2);
    expect(new Set(cells.map((c) => c.name)).size).toBe(cells.length);
    expect(cells.slice(0, 4).map((c) => c.name)).toEqual([
      'ppo_tau-h-1_sft-trust-true_lag0_seed0',
      'ppo_tau-h-1_sft-trust-true_lag4_seed0',
      'ppo_tau-h-1_sft-trust-false_lag0_seed0',
      'ppo_tau-h-1_sft-trust-false_lag4_seed0',
    ]);
    const c = cells[2]!;
    expect(c.vary).toEqual([
      { flag: 'tau-h', value: '1' },
      { flag: 'sft-trust', value: 'false' },
    ]);
    expect(c.args).toEqual([
      '--env',
      'CartPole-v1',
      '--method',
      'ppo',
      '--tau-h',
      '1',
      '--no-sft-trust',
      '--lag',
      'none',
      '--seed',
      '0',
      '--steps',
      '100',
      '--run-dir',
      join('o', c.name),
      '--quiet',
    ]);
    expect(cells[0]!.args).toContain('--sft-trust');
    expect(varySlug([])).toBe('');
    expect(varySlug([{ flag: 'hidden', value: '64,64' }])).toBe('_hidden-64-64');
    // No axes: the names of a plain sweep are unchanged.
    expect(
      sweepCells({ methods: parseMethods('ppo'), lags: [0], seeds: 1, env: 'CartPole-v1', steps: 1, out: 'o', extra: [] })[0]!.name,
    ).toBe('ppo_lag0_seed0');
  });
});

/** A fake `train`: a synthetic run whose config holds the cell's varied values; fails cells whose name matches `fail`. */
function fakeTrain(fail?: RegExp, returnOf: (c: SweepCell) => number = () => 400): { runner: CellRunner; ran: string[] } {
  const ran: string[] = [];
  const runner: CellRunner = async (cell, logFile) => {
    ran.push(cell.name);
    writeFileSync(logFile, `fake train ${cell.args.join(' ')}\n`);
    if (fail?.test(cell.name)) return 3;
    writeSynthRun(cell.runDir, {
      method: cell.spec.method,
      label: cell.spec.label,
      lag: cell.lag === 0 ? 'none' : `fixed:${cell.lag}`,
      seed: cell.seed,
      updates: 6,
      returnAt: (s) => (s / 3000) * returnOf(cell),
    });
    const file = join(cell.runDir, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as object;
    for (const v of cell.vary) {
      const row = FIELD_BY_FLAG.get(v.flag)!;
      setKey(cfg, row.key, parseField(row, v.value));
    }
    writeFileSync(file, JSON.stringify(cfg));
    return 0;
  };
  return { runner, ran };
}

const BASE = ['sweep', '--methods', 'v5', '--lags', '0', '--seeds', '2', '--steps', '3000', '--parallel', '2'];

describe('sweep --vary, run in-process with a fake train', () => {
  it('runs every cell, names them by the varied value, and the comparison groups on it', async () => {
    const out = join(tmp('isr-vary-'), 'sw');
    const { runner, ran } = fakeTrain(undefined, (c) => (c.vary[0]!.value === '2' ? 480 : 300));
    const r = await runCommand(makeSweepCommand({ runCell: runner }), [...BASE, '--vary', 'tau-h=1,2', '--out', out, '--threshold', '200']);
    expect(r.error).toBeUndefined();
    expect(ran.sort()).toEqual(['v5_tau-h-1_lag0_seed0', 'v5_tau-h-1_lag0_seed1', 'v5_tau-h-2_lag0_seed0', 'v5_tau-h-2_lag0_seed1']);
    expect(r.out).toContain('sweep: 4 cells (1 methods x 2 tau-h x 1 lags x 2 seeds), 3000 steps each');
    expect(r.out).toMatch(/\[4\/4\] v5_tau-h-\d_lag0_seed\d ok/);
    expect(r.out).toContain('grouped also on the config flags that vary across these runs: objective.tauH');
    expect(r.out).toContain('v5 floor=const objective.tauH=1');
    expect(r.out).toContain('v5 floor=const objective.tauH=2');
    expect(readdirSync(join(out, '_logs')).sort()).toEqual(ran.map((n) => `${n}.log`).sort());
    expect(readFileSync(join(out, '_logs', 'v5_tau-h-2_lag0_seed1.log'), 'utf8')).toContain('--tau-h 2 --lag none --seed 1');

    // Run again: every cell is done, none is run, the comparison is written again.
    const again = fakeTrain();
    const r2 = await runCommand(makeSweepCommand({ runCell: again.runner }), [
      ...BASE,
      '--vary',
      'tau-h=1,2',
      '--out',
      out,
      '--threshold',
      '200',
    ]);
    expect(r2.error).toBeUndefined();
    expect(again.ran).toEqual([]);
    expect(r2.out).toContain('[4/4] 4 cell(s) already done, skipped');
  });

  it('reports failed cells after comparing the rest, and refuses when every cell failed', async () => {
    const out = join(tmp('isr-vary-fail-'), 'sw');
    const some = fakeTrain(/tau-c-2_lag0_seed1/);
    const r = await runCommand(makeSweepCommand({ runCell: some.runner }), [
      ...BASE,
      '--vary',
      'tau-c=0.5,2',
      '--out',
      out,
      '--parallel',
      '1',
    ]);
    expect(r.out).toMatch(/v5_tau-c-2_lag0_seed1 FAILED exit 3/);
    expect((r.error as Error).message).toMatch(
      /^1 of 4 cell\(s\) failed: v5_tau-c-2_lag0_seed1 \(exit 3, log .*_logs\/v5_tau-c-2_lag0_seed1\.log\)$/,
    );
    expect(r.out).toContain('objective.tauC=0.5');

    const all = fakeTrain(/./);
    const r2 = await runCommand(makeSweepCommand({ runCell: all.runner }), [...BASE, '--out', join(tmp(), 'sw2')]);
    expect((r2.error as Error).message).toMatch(/^every cell failed; first: v5_lag0_seed\d \(exit 3/);
  });

  it('refuses a bad --vary before running any cell', async () => {
    const out = join(tmp('isr-vary-bad-'), 'sw');
    const f = fakeTrain();
    const r = await runCommand(makeSweepCommand({ runCell: f.runner }), [
      ...BASE,
      '--vary',
      'gamma-max=0.7,0.9',
      '--vary',
      'tau-h=0',
      '--out',
      out,
    ]);
    expect(usageMessage(r)).toBe("--vary: --tau-h: '0' is not accepted; expected a finite number > 0");
    expect(f.ran).toEqual([]);
    const r2 = await runCommand(sweepCommand, [...BASE, '--methods', 'v5:floor=neg-is', '--vary', 'floor=const', '--out', out]);
    expect(usageMessage(r2)).toMatch(/floor is also set by --methods/);
  });

  it('checks its own numbers and names before any cell', async () => {
    const f = fakeTrain();
    const cmd = makeSweepCommand({ runCell: f.runner });
    const out = join(tmp(), 'sw');
    const base = ['sweep', '--methods', 'v5', '--lags', '0', '--out', out];
    expect(usageMessage(await runCommand(cmd, [...base, '--seeds', '0']))).toBe("--seeds: '0' is not a positive integer");
    expect(usageMessage(await runCommand(cmd, [...base, '--parallel', '1.5']))).toBe("--parallel: '1.5' is not a positive integer");
    expect(usageMessage(await runCommand(cmd, [...base, '--preset', 'mujoco']))).toMatch(
      /^--preset: 'mujoco' is not a preset; use one of seq, cartpole, acrobot/,
    );
    expect(usageMessage(await runCommand(cmd, [...base, '--target-return', 'high']))).toBe(
      "--target-return: 'high' is not a finite number",
    );
    expect(usageMessage(await runCommand(cmd, [...base, '--threshold', 'x']))).toMatch(/^--threshold: /);
    expect(usageMessage(await runCommand(cmd, [...base, '--lags', '-1']))).toMatch(/^--lags: '-1'/);
    expect(f.ran).toEqual([]);
  });
});
