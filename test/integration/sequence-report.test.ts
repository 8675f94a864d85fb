/**
 * The sequence section of a comparison on a real (tiny) sweep: two methods, one seed, 2000
 * tokens, the teacher share swept with --vary behaviour=mix:0,mix:1. The sweep's report.html and
 * `compare --json` carry the section; the numbers are whatever the runs measured, so only the
 * shape and their agreement with the runs' own summaries are checked.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SequenceFigures } from '../../analysis/sequence.js';
import { ensureBuilt, recordsOf, runCli } from '../helpers/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

describe('report on a sequence sweep', () => {
  it('sweep --vary behaviour=mix:0,mix:1: report.html and compare --json have the sequence section', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'isr-seqreport-')), 'sweep');
    const s = await runCli([
      'sweep',
      '--preset',
      'seq',
      '--env',
      'seq-reverse',
      '--methods',
      'sft,ppo',
      '--lags',
      '0',
      '--seeds',
      '1',
      '--steps',
      '2000',
      '--vary',
      'behaviour=mix:0,mix:1',
      '--parallel',
      '2',
      '--out',
      out,
    ]);
    expect(s.code, s.out + s.err).toBe(0);
    expect(s.out).toContain('Sequence task: exact match by teacher share and lag');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Sequence task: exact match by teacher share and lag</h2>');
    expect(html.indexOf('<h2>Sequence task')).toBeGreaterThan(html.indexOf('<h2>In one sentence per lag</h2>'));

    const c = await runCli(['compare', out, '--json', '--bootstrap', '200', '--out', join(out, 'again')]);
    expect(c.code, c.err).toBe(0);
    const figures = JSON.parse(c.out) as {
      sequence: SequenceFigures;
      runs: { dir: string; label: string; flags: Record<string, string> }[];
    };
    const seq = figures.sequence;
    expect(seq.methods).toEqual(['ppo', 'sft']);
    expect(seq.shares).toEqual([0, 1]);
    expect(seq.lags).toEqual(['none']);
    expect(seq.rows).toHaveLength(4);
    expect(seq.summary).toHaveLength(1);
    for (const r of seq.rows) {
      const run = figures.runs.find((x) => x.label === r.method && x.flags.behaviour === r.behaviours[0]);
      const dir = run!.dir;
      const [summary] = recordsOf(join(dir, 'learner.ndjson'), 'summary') as {
        finalEval: { greedySuccess: number; success: number; stochastic: number };
      }[];
      expect(r.greedyExact!.mean).toBe(summary!.finalEval.greedySuccess);
      expect(r.sampledExact).toBe(summary!.finalEval.success);
      expect(r.meanReward).toBe(summary!.finalEval.stochastic);
    }
  });
});
