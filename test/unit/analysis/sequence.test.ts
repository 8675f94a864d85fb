import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../../analysis/compare.js';
import { renderBlocksText } from '../../../analysis/layout.js';
import { readRun, type RunData } from '../../../analysis/read.js';
import { writeReport } from '../../../analysis/report.js';
import { rateCI, SEQUENCE_TITLE, sequenceFigures, teacherShare } from '../../../analysis/sequence.js';
import { writeSynthRun, type SynthOptions } from '../../helpers/synthRun.js';

/** t quantile 0.975 with 2 degrees of freedom (tables; = 4.302652729911275). */
const T2 = 4.302652729911275;
/** t quantile 0.975 with 1 degree of freedom (tan(0.475 pi)). */
const T1 = Math.tan(0.475 * Math.PI);

let k = 0;
async function runs(specs: SynthOptions[]): Promise<RunData[]> {
  const root = mkdtempSync(join(tmpdir(), 'seqreport-'));
  const out: RunData[] = [];
  for (const s of specs) {
    const dir = join(root, `run-${k++}`);
    writeSynthRun(dir, { updates: 4, ...s });
    out.push(await readRun(dir));
  }
  return out;
}

/** A seq run: greedySuccess g, success s, mean reward r. */
function seq(
  method: string,
  behaviour: string | undefined,
  lag: string,
  seed: number,
  g: number,
  s: number,
  r: number,
  extra: Partial<SynthOptions> = {},
): SynthOptions {
  return { env: 'seq-reverse-v12-l6', method, label: method, behaviour, lag, seed, greedySuccess: g, success: s, finalEval: r, ...extra };
}

describe('teacher share', () => {
  it('reads stale, teacher and mix:P; absent is stale; anything else is unreadable', () => {
    expect(teacherShare('stale')).toBe(0);
    expect(teacherShare('teacher')).toBe(1);
    expect(teacherShare('mix:0')).toBe(0);
    expect(teacherShare('mix:0.25')).toBe(0.25);
    expect(teacherShare('mix:1')).toBe(1);
    expect(teacherShare(undefined)).toBe(0);
    expect(teacherShare('mix:1.5')).toBeNull();
    expect(teacherShare('mix:')).toBeNull();
    expect(teacherShare('greedy')).toBeNull();
    expect(teacherShare(0.5)).toBeNull();
  });
});

describe('rate interval', () => {
  it('is the Student-t interval over seeds, clipped to [0, 1]', () => {
    const xs = [0.2, 0.4, 0.9];
    const m = 1.5 / 3;
    const sd = Math.sqrt(((0.2 - m) ** 2 + (0.4 - m) ** 2 + (0.9 - m) ** 2) / 2);
    const r = rateCI(xs);
    expect(r.mean).toBeCloseTo(0.5, 12);
    expect(r.lo).toBe(0); // 0.5 - 4.30 * 0.208 < 0: clipped
    expect(r.hi).toBeCloseTo(Math.min(1, m + (T2 * sd) / Math.sqrt(3)), 9);
    const tight = rateCI([0.9, 0.92, 0.94]);
    expect(tight.lo).toBeCloseTo(0.92 - (T2 * 0.02) / Math.sqrt(3), 9);
    expect(tight.hi).toBeCloseTo(0.92 + (T2 * 0.02) / Math.sqrt(3), 9);
    expect(rateCI([0.7])).toEqual({ mean: 0.7, lo: null, hi: null });
  });
});

describe('sequence figures', () => {
  it('groups by method, teacher share and lag, with the numbers over seeds', async () => {
    const rs = await runs([
      // ppo at share 0: stale and mix:0 are the same share; lag none and fixed:16.
      seq('ppo', 'stale', 'none', 0, 0.1, 0.2, 0.6),
      seq('ppo', 'mix:0', 'none', 1, 0.3, 0.4, 0.8),
      seq('ppo', 'stale', 'fixed:16', 0, 0, 0.1, 0.3),
      seq('ppo', 'teacher', 'none', 0, 0, 0, 0.2),
      seq('ppo', 'mix:0.5', 'none', 0, 0.5, 0.4, 0.7),
      // v5 with a floor: the label carries it.
      seq('v5', 'mix:0.5', 'none', 0, 0.9, 0.6, 0.85, { label: 'v5 floor=neg-is' }),
      seq('v5', 'mix:0.5', 'none', 1, 0.92, 0.62, 0.86, { label: 'v5 floor=neg-is' }),
      seq('v5', 'mix:0.5', 'none', 2, 0.94, 0.64, 0.87, { label: 'v5 floor=neg-is' }),
      seq('v5', 'mix:1', 'none', 0, 0.96, 0.7, 0.9, { label: 'v5 floor=neg-is' }),
      seq('v5', 'teacher', 'none', 1, 0.98, 0.72, 0.92, { label: 'v5 floor=neg-is' }),
    ]);
    const f = sequenceFigures(rs)!;
    expect(f).not.toBeNull();
    expect(f.envs).toEqual(['seq-reverse-v12-l6']);
    expect(f.methods).toEqual(['ppo', 'v5 floor=neg-is']);
    expect(f.shares).toEqual([0, 0.5, 1]);
    expect(f.lags).toEqual(['none', 'fixed:16']);
    expect(f.rows.map((r) => [r.method, r.share, r.lag, r.seeds.length])).toEqual([
      ['ppo', 0, 'none', 2],
      ['ppo', 0, 'fixed:16', 1],
      ['ppo', 0.5, 'none', 1],
      ['ppo', 1, 'none', 1],
      ['v5 floor=neg-is', 0.5, 'none', 3],
      ['v5 floor=neg-is', 1, 'none', 2],
    ]);
    const ppo0 = f.rows[0]!;
    expect(ppo0.behaviours).toEqual(['mix:0', 'stale']);
    expect(ppo0.greedyExact!.mean).toBeCloseTo(0.2, 12);
    // n = 2: t(1) = 12.7 times sd / sqrt 2 = 0.1: clipped to [0, 1].
    expect(ppo0.greedyExact!.lo).toBe(0);
    expect(ppo0.greedyExact!.hi).toBeCloseTo(Math.min(1, 0.2 + (T1 * Math.SQRT2 * 0.1) / Math.SQRT2), 9);
    expect(ppo0.sampledExact).toBeCloseTo(0.3, 12);
    expect(ppo0.meanReward).toBeCloseTo(0.7, 12);
    const v5half = f.rows[4]!;
    expect(v5half.n).toBe(3);
    expect(v5half.greedyExact!.mean).toBeCloseTo(0.92, 12);
    expect(v5half.greedyExact!.lo).toBeCloseTo(0.92 - (T2 * 0.02) / Math.sqrt(3), 9);
    expect(v5half.greedyExact!.hi).toBeCloseTo(0.92 + (T2 * 0.02) / Math.sqrt(3), 9);
    expect(v5half.sampledExact).toBeCloseTo(0.62, 12);
    expect(v5half.meanReward).toBeCloseTo(0.86, 12);
    expect(f.rows[5]!.behaviours).toEqual(['mix:1', 'teacher']);

    expect(f.best.map((b) => [b.lag, b.share, b.methods])).toEqual([
      ['none', 0, ['ppo']],
      ['none', 0.5, ['v5 floor=neg-is']],
      ['none', 1, ['v5 floor=neg-is']],
      ['fixed:16', 0, ['ppo']],
    ]);
    expect(f.summary.map((s) => s.sentence)).toEqual([
      `At lag none, the highest greedy exact match is: at teacher share 0, ppo with 0.200 [0.000, ${ppo0.greedyExact!.hi!.toFixed(3)}] over 2 seed(s), the only method run; ` +
        `at share 0.5, v5 floor=neg-is with 0.920 [${v5half.greedyExact!.lo!.toFixed(3)}, ${v5half.greedyExact!.hi!.toFixed(3)}] over 3 seed(s), of 2 methods; ` +
        'at share 1, v5 floor=neg-is with 0.970 [0.843, 1.000] over 2 seed(s), of 2 methods.',
      'At lag fixed:16, the highest greedy exact match is: at teacher share 0, ppo with 0.000 (n=1) over 1 seed(s), the only method run.',
    ]);
    // 0.97 +- 12.706 * 0.01 = [0.843, 1.097] -> hi clipped to 1.
    expect(f.rows[5]!.greedyExact!.lo).toBeCloseTo(0.97 - T1 * 0.01, 9);
  });

  it('puts a varied objective option in the method label, names ties, and leaves out unreadable behaviours', async () => {
    const rs = await runs([
      seq('sft', 'teacher', 'none', 0, 1, 0.7, 0.9, { extraConfig: { advantage: 'reward' } }),
      seq('sft', 'teacher', 'none', 1, 1, 0.68, 0.9, { extraConfig: { advantage: 'reward' } }),
      seq('sft', 'teacher', 'none', 0, 0.01, 0, 0.14, { extraConfig: { advantage: 'group' } }),
      seq('v5', 'teacher', 'none', 0, 1, 0.71, 0.91, { extraConfig: { advantage: 'group' } }),
      seq('v5', 'sometimes', 'none', 1, 1, 0.71, 0.91, { extraConfig: { advantage: 'group' } }),
      // A seq run without success fields (an older log): counted as missing.
      seq('v5', 'teacher', 'none', 2, NaN, NaN, 0.5, { extraConfig: { advantage: 'group' }, greedySuccess: undefined, success: undefined }),
    ]);
    const f = sequenceFigures(rs)!;
    expect(f.methods).toEqual(['sft advantage=group', 'sft advantage=reward', 'v5 floor=const advantage=group']);
    expect(f.skipped).toHaveLength(1);
    expect(f.skipped[0]).toContain('behaviour sometimes');
    const v5 = f.rows.find((r) => r.method === 'v5 floor=const advantage=group')!;
    expect(v5.seeds).toEqual([0, 2]);
    expect(v5.n).toBe(1);
    expect(v5.missing).toBe(1);
    expect(v5.meanReward).toBeCloseTo((0.91 + 0.5) / 2, 12);
    expect(f.best).toHaveLength(1);
    expect(f.best[0]!.methods).toEqual(['sft advantage=reward', 'v5 floor=const advantage=group']);
    expect(f.summary[0]!.sentence).toBe(
      'At lag none, the highest greedy exact match is: at teacher share 1, sft advantage=reward and v5 floor=const advantage=group tie with 1.000 [1.000, 1.000] over 2 seed(s), of 3 methods.',
    );
  });

  it('is absent for runs that are not on a sequence task', async () => {
    const rs = await runs([
      { method: 'ppo', seed: 0 },
      { method: 'ppo', seed: 1 },
      { method: 'v5', seed: 0, lag: 'fixed:8' },
    ]);
    expect(sequenceFigures(rs)).toBeNull();
    const a = compareRuns(rs, 475, { bootstrap: 200 });
    expect('sequence' in a.figures).toBe(false);
    expect(Object.keys(JSON.parse(JSON.stringify(a.figures)) as object)).not.toContain('sequence');
    expect(a.layout.some((b) => b.kind === 'text' && b.title === SEQUENCE_TITLE)).toBe(false);
    expect(renderBlocksText(a.layout)).not.toContain('teacher share');
  });
});

describe('sequence section in compare and the report', () => {
  it('comes after the headline sentences, in the text, the JSON figures and report.html', async () => {
    const rs = await runs([
      seq('ppo', 'mix:0', 'none', 0, 0.1, 0.2, 0.6),
      seq('ppo', 'mix:1', 'none', 0, 0, 0, 0.2),
      seq('sft', 'mix:0', 'none', 0, 0, 0.1, 0.3),
      seq('sft', 'mix:1', 'none', 0, 0.99, 0.7, 0.9),
      // A non-sequence run in the same comparison is left out of the section.
      { method: 'ppo', seed: 3 },
    ]);
    const a = compareRuns(rs, 475, { bootstrap: 200 });
    expect(a.figures.sequence?.rows).toHaveLength(4);
    const titles = a.layout.map((b) => (b.kind === 'text' ? b.title : b.kind === 'table' ? b.table.title : b.chart.name));
    const at = titles.indexOf(SEQUENCE_TITLE);
    expect(titles[at - 1]).toBe('In one sentence per lag');
    expect(titles[at + 1]).toBe(
      'Greedy exact match by method, lag and teacher share: mean [95% Student-t CI over seeds, clipped to [0, 1]]',
    );
    const text = renderBlocksText(a.layout);
    expect(text).toContain(
      'At lag none, the highest greedy exact match is: at teacher share 0, ppo with 0.100 (n=1) over 1 seed(s), of 2 methods; at share 1, sft with 0.990 (n=1) over 1 seed(s), of 2 methods.',
    );
    expect(text).toMatch(/method +lag +share 0 +share 1\n/);
    expect(text).toMatch(/ppo +none +0\.100 \(n=1\) +0\.000 \(n=1\)/);

    const out = mkdtempSync(join(tmpdir(), 'seqreport-html-'));
    const files = await writeReport(out, 'seq', a);
    const html = readFileSync(files.html, 'utf8');
    const sec = html.indexOf(`<h2>${SEQUENCE_TITLE}</h2>`);
    expect(sec).toBeGreaterThan(html.indexOf('<h2>In one sentence per lag</h2>'));
    expect(html).toContain('<td>sft</td><td>none</td><td>0.000 (n=1)</td><td>0.990 (n=1)</td>');
  });
});
