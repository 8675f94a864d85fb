/**
 * The TensorBoard writer read back by an independent reader (test/helpers/tbReader.ts: a
 * bitwise CRC32C, its own TFRecord framing and protobuf decoding), and tags mapped to NDJSON
 * fields by a table of its own. Every CRC, tag, step and value is checked.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, exportRun, TensorBoardWriter } from '../../../analysis/tensorboard.js';
import { readRun } from '../../../analysis/read.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { crc32cBitwise, readEvents } from '../../helpers/tbReader.js';

/** Tag -> where its value sits in an update record (this test's own table). */
type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const UPDATE_TAGS: Record<string, (u: Rec) => unknown> = {
  'return/behaviour_mean100': (u) => u.return.mean100,
  'return/eval_stochastic': (u) => u.eval?.stochastic,
  'return/eval_greedy': (u) => u.eval?.greedy,
  'ess/w': (u) => u.ess,
  'ess/g': (u) => u.essG,
  'kl/mu_pi_k1': (u) => u.klMuPiK1,
  'kl/mu_pi_k3': (u) => u.klMuPiK3,
  'kl/pi_mu': (u) => u.klPiMu,
  'lag/min': (u) => u.lag.min,
  'lag/mean': (u) => u.lag.mean,
  'lag/max': (u) => u.lag.max,
  'policy/entropy': (u) => u.entropy,
  'policy/collapsed': (u) => (u.collapsed === undefined ? undefined : Number(u.collapsed)),
  'loss/policy': (u) => u.policyLoss,
  'loss/value': (u) => u.valueLoss,
  'optim/grad_norm': (u) => u.gradNorm,
  'optim/lr': (u) => u.lr,
  'throughput/fps': (u) => u.fps,
  'throughput/queue_depth': (u) => u.queueDepth,
  'g/mean': (u) => u.meanG,
  'w/p05': (u) => u.wQuantiles.p05,
  'w/p50': (u) => u.wQuantiles.p50,
  'w/p95': (u) => u.wQuantiles.p95,
};
for (const q of ['wHighAPos', 'wHighANeg', 'wLowAPos', 'wLowANeg']) {
  UPDATE_TAGS[`g/quadrant/${q}`] = (u) => (u.quadrants[q].n > 0 ? u.quadrants[q].meanG : undefined);
  UPDATE_TAGS[`g/train_quadrant/${q}`] = (u) => (u.trainQuadrants?.[q].n > 0 ? u.trainQuadrants[q].meanG : undefined);
}
for (const b of ['0', '1', '2-3', '4-7', '8-15', '16-31', '32-63', '64+']) {
  UPDATE_TAGS[`g/lag_bucket/${b}`] = (u) => (u.lagBuckets[b]?.n > 0 ? u.lagBuckets[b].meanG : undefined);
  UPDATE_TAGS[`ess/lag_bucket/${b}`] = (u) => (u.lagBuckets[b]?.n > 0 ? u.lagBuckets[b].ess : undefined);
}

function expected(rec: Rec, table: Record<string, (u: Rec) => unknown>): [string, number][] {
  return Object.entries(table).flatMap(([tag, f]) => {
    const v = f(rec);
    return typeof v === 'number' ? [[tag, Math.fround(v)] as [string, number]] : [];
  });
}

describe('TensorBoard event files', () => {
  it('CRC32C: the table-driven one agrees with a bitwise one, and with the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const b = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff));
    expect(crc32c(b)).toBe(crc32cBitwise(b));
  });

  it('an exported run reads back: framing, CRCs, file_version first, every tag, step and value of the NDJSON', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-tb-')), 'run');
    writeSynthRun(dir, { updates: 9, evalEvery: 3, lag: 'fixed:4', collapseFrom: 7, collapseEntropy: 0.05 });
    const run = await readRun(dir);
    const out = join(dir, 'tb');
    const r = exportRun(out, run.updates, run.summary, 'testhost');
    expect(readdirSync(out)).toEqual([`events.out.tfevents.${Math.floor(run.updates[0]!.time / 1000)}.testhost`]);
    const events = readEvents(r.path);
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', values: [] });

    const ndjson = readFileSync(join(dir, 'learner.ndjson'), 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Rec];
        } catch {
          return [];
        }
      });
    const updates = ndjson.filter((x) => x.kind === 'update');
    const summary = ndjson.find((x) => x.kind === 'summary')!;
    expect(updates).toHaveLength(9);
    expect(events).toHaveLength(1 + 9 + 1);
    for (let i = 0; i < updates.length; i++) {
      const ev = events[i + 1]!;
      expect(ev.step).toBe(updates[i]!.envSteps);
      expect(ev.wallTime).toBe(updates[i]!.time / 1000);
      expect(ev.values.sort()).toEqual(expected(updates[i]!, UPDATE_TAGS).sort());
    }
    const evalTags = events.slice(1, 10).map((e) => e.values.some(([t]) => t === 'return/eval_stochastic'));
    expect(evalTags).toEqual([false, false, true, false, false, true, false, false, true]);
    expect(events[5]!.values).toContainEqual(['ess/lag_bucket/4-7', Math.fround(updates[4]!.lagBuckets['4-7'].ess)]);
    expect(events[10]!.step).toBe(summary.envSteps);
    expect(events[10]!.values.sort()).toEqual(
      [
        ['final_eval/greedy', Math.fround(summary.finalEval.greedy)],
        ['final_eval/random_policy', Math.fround(summary.randomReturn)],
        ['final_eval/stochastic', Math.fround(summary.finalEval.stochastic)],
      ].sort(),
    );
    expect(r.scalars).toBe(events.reduce((s, e) => s + e.values.length, 0));
  });

  it('the reader catches a corrupted byte (the CRC check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-tb-'));
    const w = new TensorBoardWriter(dir, { wallTime: 1000, host: 'h' });
    w.addScalars(5, 1001, { a: 1.5, skipped: null, nan: NaN });
    w.close();
    expect(readEvents(w.path)[1]).toEqual({ wallTime: 1001, step: 5, values: [['a', 1.5]] });
    const b = readFileSync(w.path);
    b[b.length - 6] ^= 0x01;
    const bad = join(dir, 'bad');
    writeFileSync(bad, b);
    expect(() => readEvents(bad)).toThrow(/data CRC/);
    expect(() => w.addScalars(6, 1002, { a: 1 })).toThrow(/closed/);
  });
});
