/**
 * The CLI as a function (`runCli`) and the analysis commands run in-process: exit statuses
 * (0, 2 with one line for bad input, 1 with the stack otherwise), help and version, `keys`,
 * `analyze`, `compare` and `export-tb` on synthetic run directories, and the --tensorboard
 * option of train and learner.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tensorboardDir } from '../../../deploy/tensorboardOption.js';
import { trainCommand } from '../../../deploy/commands/train.js';
import { learnerCommand } from '../../../deploy/commands/learner.js';
import { exportTbCommand } from '../../../deploy/commands/exportTb.js';
import { analyzeCommand } from '../../../deploy/commands/analyze.js';
import { compareCommand } from '../../../deploy/commands/compare.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { readEvents } from '../../helpers/tbReader.js';
import { readRun } from '../../../analysis/read.js';
import { tmp } from './helpers.js';
import { cli, runCommand, usageMessage } from './runCommand.js';

afterEach(() => vi.restoreAllMocks());

describe('runCli exit statuses', () => {
  it('bad input: 2 and one line naming it', async () => {
    expect(await cli(['nope'])).toMatchObject({ code: 2, err: 'isreshape: Unknown argument: nope\n' });
    expect(await cli([])).toMatchObject({ code: 2, err: 'isreshape: name a command: isreshape --help lists them\n' });
    expect(await cli(['keys', '--name', 'a', '--out'])).toMatchObject({ code: 2, err: 'isreshape: Not enough arguments following: out\n' });
    const missing = join(tmp(), 'no-such-run');
    const r = await cli(['analyze', missing]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(r.err).toMatch(new RegExp(`^isreshape: .*${missing}`));
  });

  it('any other failure: 1 with the stack', async () => {
    const dir = tmp();
    writeSynthRun(join(dir, 'run'), { updates: 2 });
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await cli(['export-tb', join(dir, 'run'), '--out', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^isreshape: Error: EEXIST/);
    expect(r.err).toMatch(/\n\s+at /);
  });

  it('--help lists every command at the given width; --version prints the version', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['train', 'learner', 'actor', 'weights', 'analyze', 'compare', 'export-tb', 'sweep', 'keys'])
      expect(h.out).toContain(`isreshape ${c}`);
    expect(Math.max(...h.out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const sweepHelp = await cli(['sweep', '--help']);
    expect(sweepHelp.out).toContain('--vary');
    const trainHelp = await cli(['train', '--help']);
    expect(trainHelp.out).toContain('--tensorboard');
    const v = await cli(['--version']);
    expect(v).toMatchObject({ code: 0 });
    expect(v.out.trim()).toBe(JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../package.json'), 'utf8')).version);
  });

  it('keys writes a key pair: 0, the secret readable by the owner only', async () => {
    const out = join(tmp('isr-keys-'), 'k');
    const r = await cli(['keys', '--out', out, '--name', 'learner']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(`^secret: ${join(out, 'learner.key')} \\(keep it on this machine\\)\\npublic: ${join(out, 'learner.pub')} \\S{40}\\n$`),
    );
    expect(statSync(join(out, 'learner.key')).mode & 0o077).toBe(0);
  });
});

describe('analysis commands in-process', () => {
  it('analyze prints the tables and writes the report; --json prints the figures; a bad threshold is refused', async () => {
    const dir = join(tmp('isr-an-'), 'run');
    writeSynthRun(dir, { updates: 8, evalEvery: 2 });
    const r = await runCommand(analyzeCommand, ['analyze', dir, '--threshold', '300']);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain(`report: ${join(dir, 'report.html')} (`);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    const j = await runCommand(analyzeCommand, ['analyze', dir, '--json']);
    const figures = JSON.parse(j.out) as { report: { html: string } };
    expect(figures.report.html).toBe(join(dir, 'report.html'));
    expect(usageMessage(await runCommand(analyzeCommand, ['analyze', dir, '--threshold', 'x']))).toMatch(/^--threshold: /);
  });

  it('analyze warns on stderr about malformed lines', async () => {
    const dir = join(tmp('isr-an-'), 'run');
    writeSynthRun(dir, { updates: 4, malformedLines: 2 });
    const r = await runCommand(analyzeCommand, ['analyze', dir]);
    expect(r.error).toBeUndefined();
    expect(r.err).toMatch(/^warning: .*learner\.ndjson: 2 malformed line\(s\) skipped$/m);
  });

  it('compare writes the report next to the runs, or in the sweep directory given; refuses a bad --bootstrap', async () => {
    const root = tmp('isr-cmp-');
    const a = join(root, 'sw', 'a'),
      b = join(root, 'sw', 'b');
    writeSynthRun(a, { method: 'ppo', seed: 0, updates: 6 });
    writeSynthRun(b, { method: 'v5', seed: 0, updates: 6 });
    const r = await runCommand(compareCommand, ['compare', a, b, '--bootstrap', '200']);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain(`report: ${join(root, 'sw', 'report.html')}`);
    const out2 = join(root, 'elsewhere');
    const j = await runCommand(compareCommand, ['compare', join(root, 'sw'), '--json', '--out', out2, '--bootstrap', '200']);
    expect((JSON.parse(j.out) as { report: { html: string } }).report.html).toBe(join(out2, 'report.html'));
    expect(usageMessage(await runCommand(compareCommand, ['compare', a, '--bootstrap', '5']))).toMatch(
      /^--bootstrap: '5' is not a whole number of resamples from 100 to 1000000/,
    );
    expect(usageMessage(await runCommand(compareCommand, ['compare', a, '--threshold', 'nan']))).toMatch(/^--threshold: /);
  });

  it('export-tb writes one event per update at its env steps, then the summary', async () => {
    const dir = join(tmp('isr-tb-'), 'run');
    writeSynthRun(dir, { updates: 5, malformedLines: 1 });
    const r = await runCommand(exportTbCommand, ['export-tb', dir]);
    expect(r.error).toBeUndefined();
    const files = readdirSync(join(dir, 'tensorboard'));
    expect(files).toHaveLength(1);
    const events = readEvents(join(dir, 'tensorboard', files[0]!));
    const { updates } = await readRun(dir);
    expect(events.slice(1, -1).map((e) => e.step)).toEqual(updates.map((u) => u.envSteps));
    expect(r.out).toBe(
      `wrote ${events.length} events (${events.reduce((n, e) => n + e.values.length, 0)} scalars, 5 updates) to ${join(dir, 'tensorboard', files[0]!)}\n`,
    );
    expect(r.err).toMatch(/^warning: .*1 malformed line/);
  });

  it('export-tb refuses an empty --out and a run with nothing to export', async () => {
    const dir = join(tmp('isr-tb-'), 'run');
    writeSynthRun(dir, { updates: 2 });
    expect(usageMessage(await runCommand(exportTbCommand, ['export-tb', dir, '--out', ' ']))).toBe(
      '--out: missing directory; e.g. --out runs/tb',
    );
    const empty = join(tmp('isr-tb-'), 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'config.json'), readFileSync(join(dir, 'config.json')));
    writeFileSync(join(empty, 'learner.ndjson'), '');
    expect(usageMessage(await runCommand(exportTbCommand, ['export-tb', empty]))).toBe(
      `${empty}: no update or summary records in learner.ndjson; nothing to export`,
    );
  });
});

describe('--tensorboard (train, learner)', () => {
  it('resolves the directory, and refuses an empty one before starting anything', async () => {
    expect(tensorboardDir(undefined)).toBeUndefined();
    expect(tensorboardDir('runs/tb')).toBe(resolve('runs/tb'));
    const runDir = join(tmp(), 'run');
    for (const cmd of [trainCommand, learnerCommand]) {
      const name = cmd === trainCommand ? 'train' : 'learner';
      expect(usageMessage(await runCommand(cmd, [name, '--run-dir', runDir, '--tensorboard', '']))).toBe(
        '--tensorboard: missing directory; e.g. --tensorboard runs/tb',
      );
    }
    expect(existsSync(runDir)).toBe(false);
  });
});
