/**
 * A sequence task end to end through the real CLI (learner and actor processes, worker threads,
 * loopback sockets): a teacher mix with per-response ratios on a non-default vocabulary, and
 * the summary's exact-match rates and the update records' per-source diagnostics.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli } from '../helpers/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

describe('train on a sequence task', () => {
  it('mix:0.5 teacher, --ratio sequence, V = 6, L = 6: sources, positions and success are logged', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-seq-')), 'run');
    const r = await runCli([
      'train',
      '--preset',
      'seq',
      '--seq-vocab',
      '6',
      '--seq-length',
      '6',
      '--segment-steps',
      '6',
      '--envs-per-worker',
      '16',
      '--group-size',
      '4',
      '--behaviour',
      'mix:0.5',
      '--ratio',
      'sequence',
      '--method',
      'v5',
      '--floor',
      'neg-is',
      '--steps',
      '3000',
      '--eval-every',
      '10',
      '--eval-episodes',
      '20',
      '--final-eval-episodes',
      '50',
      '--quiet',
      '--run-dir',
      dir,
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.env).toBe('seq-reverse-v6-l6');
    const ups = recordsOf(join(dir, 'learner.ndjson'), 'update');
    expect(ups.length).toBeGreaterThan(10);
    for (const u of ups) {
      const s = u.sequence as {
        bySource: Record<string, Record<string, { n: number; success: number | null }>>;
        positions: { n: number }[];
      };
      expect(Object.keys(s.bySource).sort()).toEqual(['policy', 'teacher']);
      expect(s.positions.length).toBe(6);
      const teacher = Object.values(s.bySource.teacher);
      expect(teacher.reduce((a, b) => a + b.n, 0)).toBe(48); // half of 16 envs x 6 tokens
    }
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      finalEval: { success: number; greedySuccess: number; episodes: number };
    };
    expect(summary.finalEval.episodes).toBe(50);
    expect(summary.finalEval.success).toBeGreaterThanOrEqual(0);
    expect(summary.finalEval.success).toBeLessThanOrEqual(1);
    expect(typeof summary.finalEval.greedySuccess).toBe('number');
  }, 120_000);
});
