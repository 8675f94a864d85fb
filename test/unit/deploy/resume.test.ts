/**
 * `--resume RUN_DIR`: the run's own config.json, flags that would change the run refused (one
 * line naming the flag), budgets raised and saved back atomically, never lowered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { buildConfig, trainOptions } from '../../../deploy/options.js';
import { configFileOptions, writeRunConfig } from '../../../deploy/runConfig.js';
import { resumeConfig, resumeOption } from '../../../deploy/resume.js';
import { UsageError } from '../../../deploy/errors.js';
import { argvOf, tmp } from './helpers.js';

function resumeArgv(args: string[]): Record<string, unknown> {
  return yargs(args)
    .options({ ...trainOptions(), ...configFileOptions(), ...resumeOption() })
    .strict()
    .parseSync() as Record<string, unknown>;
}

function newRun(extra: string[] = []): string {
  const dir = join(tmp('isr-resume-'), 'run');
  writeRunConfig(buildConfig(argvOf(['--run-dir', dir, '--method', 'v5', '--lr', '0.001', '--steps', '5000', ...extra])));
  return dir;
}

function usageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('resumeConfig', () => {
  it("takes the run's config.json as saved, with its run id and directory", () => {
    const dir = newRun();
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { runId: string };
    const cfg = resumeConfig(resumeArgv(['--resume', dir]));
    expect(cfg).toMatchObject({
      runDir: dir,
      runId: saved.runId,
      lr: 0.001,
      steps: 5000,
      checkpointEvery: 0,
      checkpointSeconds: 30,
      keepCheckpoints: 3,
      restartActors: true,
    });
    expect(cfg.objective.method).toBe('v5');
  });

  it('refuses flags that would change the run, naming them', () => {
    const dir = newRun();
    expect(usageOf(() => resumeConfig(resumeArgv(['--resume', dir, '--lr', '0.1'])))).toBe(
      '--resume: --lr would change the run; a resumed run keeps its config.json (only --steps and --time may be given, to raise the budget)',
    );
    expect(usageOf(() => resumeConfig(resumeArgv(['--resume', dir, '--join'])))).toMatch(/^--resume: cannot be combined with --join/);
    expect(usageOf(() => resumeConfig(resumeArgv(['--resume', join(dir, 'nope')])))).toMatch(/holds no config.json/);
  });

  it('raises --steps and --time and saves them in config.json; refuses lowering them', () => {
    const dir = newRun(['--time', '60']);
    expect(usageOf(() => resumeConfig(resumeArgv(['--resume', dir, '--steps', '4000'])))).toBe(
      "--steps: 4000 is below the run's 5000; a resume may only raise the budget",
    );
    expect(usageOf(() => resumeConfig(resumeArgv(['--resume', dir, '--time', '30'])))).toMatch(
      /^--time: 30 is below the run's 60 \(0: no limit\)/,
    );
    const cfg = resumeConfig(resumeArgv(['--resume', dir, '--steps', '9000', '--time', '0']));
    expect([cfg.steps, cfg.timeSec]).toEqual([9000, 0]);
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { steps: number; timeSec: number };
    expect([saved.steps, saved.timeSec]).toEqual([9000, 0]);
    expect(resumeConfig(resumeArgv(['--resume', dir])).steps).toBe(9000);
  });
});
