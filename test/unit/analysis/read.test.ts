import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnalysisError } from '../../../analysis/errors.js';
import { findRunDirs, readNdjson, readRun } from '../../../analysis/read.js';
import { makeUpdate, writeSynthRun } from '../../helpers/synthRun.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'isr-read-'));

describe('readNdjson', () => {
  it('counts malformed lines, skips blank lines, flags a truncated last line', async () => {
    const p = join(tmp(), 'x.ndjson');
    writeFileSync(p, '{"a":1}\nnot json\n\n[1,2]\n{"a":2}\n{"a":3, "b"');
    const seen: unknown[] = [];
    const s = await readNdjson(p, (r) => seen.push(r.a));
    expect(seen).toEqual([1, 2]);
    expect(s).toMatchObject({ lines: 5, parsed: 2, malformed: 2 });
    expect(s.truncatedLast).toBe(true);
  });

  it('a bad last line that ends with a newline is malformed, not truncated', async () => {
    const p = join(tmp(), 'x.ndjson');
    writeFileSync(p, '{"a":1}\n{"a":\n');
    const s = await readNdjson(p, () => {});
    expect(s).toMatchObject({ parsed: 1, malformed: 1, truncatedLast: false });
  });

  it('a last line without newline that parses is kept', async () => {
    const p = join(tmp(), 'x.ndjson');
    writeFileSync(p, '{"a":1}\n{"a":2}');
    const seen: unknown[] = [];
    const s = await readNdjson(p, (r) => seen.push(r.a));
    expect(seen).toEqual([1, 2]);
    expect(s.truncatedLast).toBe(false);
  });
});

describe('readRun', () => {
  it('reads a synthetic run with malformed lines', async () => {
    const dir = join(tmp(), 'run');
    writeSynthRun(dir, { updates: 12, malformedLines: 3, lag: 'fixed:8', label: 'v5 floor=neg-is', actors: 3 });
    const run = await readRun(dir);
    expect(run.configFound).toBe(true);
    expect(run.config).toMatchObject({ lag: 'fixed:8', label: 'v5 floor=neg-is', env: 'CartPole-v1' });
    expect(run.updates.map((u) => u.version)).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect(run.summary?.trained).toBe(12);
    expect(run.actors).toHaveLength(6);
    expect(run.malformed).toBe(3);
    expect(run.truncated).toBe(false);
    expect(run.warnings.join('\n')).toMatch(/3 malformed line/);
  });

  it("labels v5 and v5-fixed with their floor: the draft's constant floor reads floor=const, not plain v5 (issue 22)", async () => {
    const cases: Array<[string, Record<string, unknown> | undefined, string]> = [
      ['v5', { method: 'v5', floor: 'const' }, 'v5 floor=const'],
      ['v5', { method: 'v5' }, 'v5 floor=const'], // a config.json from before --floor: the constant floor
      ['v5', undefined, 'v5 floor=const'], // nor an objective at all
      ['v5 trust=log sft-trust', { method: 'v5', floor: 'const', trust: 'log', sftTrust: true }, 'v5 floor=const trust=log sft-trust'],
      ['v5-fixed', { method: 'v5-fixed', floor: 'const' }, 'v5-fixed floor=const'],
      ['v5 floor=neg-is', { method: 'v5', floor: 'neg-is' }, 'v5 floor=neg-is'],
      ['v5-fixed floor=max1 trust=log', { method: 'v5-fixed', floor: 'max1', trust: 'log' }, 'v5-fixed floor=max1 trust=log'],
      ['ppo', { method: 'ppo', floor: 'const' }, 'ppo'],
      ['v3.1', { method: 'v3.1', floor: 'const' }, 'v3.1'],
    ];
    for (const [label, objective, shown] of cases) {
      const dir = join(tmp(), 'run');
      writeSynthRun(dir, { method: label.split(' ')[0], label });
      const cfgPath = join(dir, 'config.json');
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
      if (objective === undefined) delete cfg.objective;
      else cfg.objective = objective;
      writeFileSync(cfgPath, JSON.stringify(cfg));
      expect((await readRun(dir)).config.label, `${label} ${JSON.stringify(objective)}`).toBe(shown);
    }
    // No config.json: the label comes from the log, which names the method only.
    const dir = join(tmp(), 'run');
    writeSynthRun(dir, { method: 'v5' });
    rmSync(join(dir, 'config.json'));
    const run = await readRun(dir);
    expect(run.configFound).toBe(false);
    expect(run.config.label).toBe('v5 floor=unknown');
  });

  it('skips a truncated last line (no summary) without failing', async () => {
    const dir = join(tmp(), 'run');
    writeSynthRun(dir, { updates: 5, truncateLast: true });
    const run = await readRun(dir);
    expect(run.truncated).toBe(true);
    expect(run.updates).toHaveLength(4);
    expect(run.summary).toBeNull();
    expect(run.warnings.join('\n')).toMatch(/truncated last line/);
  });

  it('counts records with a known kind but missing fields as invalid', async () => {
    const dir = join(tmp(), 'run');
    writeSynthRun(dir, { updates: 2 });
    appendFileSync(join(dir, 'learner.ndjson'), JSON.stringify({ kind: 'update', version: 'x' }) + '\n');
    const run = await readRun(dir);
    expect(run.updates).toHaveLength(2);
    expect(run.files[0]!.invalid).toBe(1);
  });

  it('falls back to the log when config.json is missing', async () => {
    const dir = join(tmp(), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'learner.ndjson'), JSON.stringify(makeUpdate({ method: 'ppo', runId: 'r1' })) + '\n');
    const run = await readRun(dir);
    expect(run.configFound).toBe(false);
    expect(run.config).toMatchObject({ label: 'ppo', runId: 'r1', lag: 'unknown' });
  });

  it('rejects a missing or empty directory with an error naming the path', async () => {
    const missing = join(tmp(), 'nope');
    await expect(readRun(missing)).rejects.toThrow(new RegExp(`'${missing}' cannot be read`));
    await expect(readRun(missing)).rejects.toBeInstanceOf(AnalysisError);
    const empty = tmp();
    await expect(readRun(empty)).rejects.toThrow(/neither config.json nor learner.ndjson/);
  });

  it('findRunDirs expands a sweep directory into its run subdirectories', async () => {
    const root = tmp();
    writeSynthRun(join(root, 'b_run'), { updates: 1 });
    writeSynthRun(join(root, 'a_run'), { updates: 1 });
    mkdirSync(join(root, '_logs'));
    expect(await findRunDirs([root])).toEqual([join(root, 'a_run'), join(root, 'b_run')]);
    expect(await findRunDirs([join(root, 'a_run')])).toEqual([join(root, 'a_run')]);
    await expect(findRunDirs([join(root, '_logs')])).rejects.toThrow(/holds neither/);
  });
});

describe('readRun, resumed runs', () => {
  it("drops the updates a crash lost (after the resume's checkpoint) and keeps the run as one", async () => {
    const dir = tmp();
    const lines = [
      makeUpdate({ version: 1, envSteps: 64 }),
      makeUpdate({ version: 2, envSteps: 128 }),
      makeUpdate({ version: 3, envSteps: 192 }),
      { kind: 'resume', fromVersion: 2, version: 4, envSteps: 128 },
      makeUpdate({ version: 5, envSteps: 192 }),
      makeUpdate({ version: 6, envSteps: 256 }),
    ];
    writeFileSync(join(dir, 'learner.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const run = await readRun(dir);
    expect(run.updates.map((u) => [u.version, u.envSteps])).toEqual([
      [1, 64],
      [2, 128],
      [5, 192],
      [6, 256],
    ]);
  });
});
