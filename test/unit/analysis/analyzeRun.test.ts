import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from 'vega-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../../analysis/analyzeRun.js';
import { readRun } from '../../../analysis/read.js';
import { writeSynthRun } from '../../helpers/synthRun.js';

const root = mkdtempSync(join(tmpdir(), 'isr-analyzerun-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Layer {
  data?: { values?: { envSteps: number; series: string }[] };
}

describe('analyzeRun return chart', () => {
  // Failed before: the chart spread finalEval (whose envSteps is the evaluation's own step count,
  // 98,765 here) over the training step, so the points sat at 98,765 on a 10,000-step run.
  it('plots the final evaluation at the training step the run ended on, not at the evaluation step count', async () => {
    const dir = join(root, 'run');
    writeSynthRun(dir, { updates: 20, stepsPerUpdate: 500, finalEval: 300, finalEvalSteps: 98_765 });
    const a = analyzeRun(await readRun(dir), null);
    const ret = a.charts.find((c) => c.name === 'return')!;
    const layers = (ret.spec as { layer: Layer[] }).layer;
    const fe = layers.flatMap((l) => l.data?.values ?? []).filter((v) => v.series.startsWith('final eval'));
    expect(fe).toHaveLength(2);
    expect(fe.map((v) => v.envSteps)).toEqual([10_000, 10_000]);
  });

  // Failed before: one shared colour legend drew the final-evaluation entries with the line
  // layer's stroke symbol.
  it("draws the final evaluation's legend entries as diamonds, the curves' as the line layer draws them", async () => {
    const dir = join(root, 'legend');
    writeSynthRun(dir, { updates: 5, finalEval: 300, finalEvalSteps: 4000 });
    const ret = analyzeRun(await readRun(dir), null).charts.find((c) => c.name === 'return')!;
    const legends = (compile(ret.spec).spec.legends ?? []) as { title?: string; symbolType?: string }[];
    const final = legends.find((l) => l.title === 'final evaluation');
    expect(final?.symbolType).toBe('diamond');
    const curves = legends.find((l) => l.title === 'series');
    expect(curves).toBeDefined();
    expect(curves!.symbolType).not.toBe('diamond');
  });
});
