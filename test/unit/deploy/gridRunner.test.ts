import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cellDone, parseMethods, runGrid, sweepCells, type CellResult } from '../../../deploy/sweepGrid.js';
import { parseNumberList, requireFinite, UsageError } from '../../../deploy/errors.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { tmp } from './helpers.js';

describe('the grid runner (sweep and the learning bench)', () => {
  it('reuses finished cells without starting a process, in completion order', async () => {
    const out = tmp();
    const cells = sweepCells({
      methods: parseMethods('ppo,v5'),
      lags: [0],
      seeds: 2,
      env: 'CartPole-v1',
      steps: 100,
      out,
      extra: [],
      config: '/abs/base.yaml',
    });
    expect(cells[0]!.args.slice(0, 2)).toEqual(['--config', '/abs/base.yaml']);
    for (const c of cells) writeSynthRun(c.runDir, { method: c.spec.method, updates: 2 });
    expect(await cellDone(cells[0]!.runDir)).toBe(true);
    expect(await cellDone(join(out, 'missing'))).toBe(false);
    const seen: CellResult[] = [];
    // A CLI that does not exist: any spawn would fail the cell.
    const results = await runGrid(cells, {
      cli: '/nonexistent/cli.js',
      logDir: join(out, '_logs'),
      parallel: 3,
      onCell: (r) => {
        seen.push(r);
      },
    });
    expect(results).toHaveLength(4);
    expect(results.every((r) => r.reused && r.code === 0)).toBe(true);
    expect(seen.map((r) => r.cell.name).sort()).toEqual(cells.map((c) => c.name).sort());
  });

  it('a cell without a summary is not done', async () => {
    const dir = join(tmp(), 'run');
    writeSynthRun(dir, { updates: 3, stopAtUpdate: 3 });
    // synthRun writes a summary; a log with updates only is an interrupted run.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'learner.ndjson'), '{"kind":"update"}\n');
    expect(await cellDone(dir)).toBe(false);
  });
});

describe('number flags of the other commands', () => {
  it('parseNumberList and requireFinite name the flag', () => {
    expect(parseNumberList('w', '1, 2.5')).toEqual([1, 2.5]);
    expect(() => parseNumberList('w', '')).toThrow(/^--w: missing value/);
    expect(() => parseNumberList('w', '1,,2')).toThrow(/^--w: '' in '1,,2'/);
    expect(requireFinite('threshold', '3')).toBe(3);
    expect(() => requireFinite('threshold', 'x')).toThrow(UsageError);
  });
});
