/**
 * Limits at the learner's socket, live on loopback: a real learner (in this process), an
 * honest actor (real worker threads) training, and a hostile peer (a raw DEALER) that
 * (A) sends multipart messages whose frames are each under ZeroMQ's maxMessageSize but
 *     together far over the run's largest legitimate message,
 * (B) sends messages of more frames than any protocol message has,
 * (C) floods single frames of the largest legitimate size.
 * Each hostile message is accounted (rejected OVERSIZE, BAD_FRAMES, BAD_MAGIC: exactly as many
 * as were sent), none is parsed past the limit, the honest actor keeps training during each
 * flood, and after each flood the JS-side memory that received frames hold (`external`) is back
 * near where it was: the learner keeps none of a flood's bytes. RSS before, at its peak and
 * after each flood is printed (not asserted: glibc keeps freed memory of libzmq's I/O thread in
 * its arena, see the README's security section).
 */
import * as zmq from 'zeromq';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSpecFor } from '../../envs/registry.js';
import { initBackend } from '../../model/backend.js';
import { MAX_PAYLOAD_FRAMES, maxMessageBytes } from '../../protocol/codec.js';
import { ensureBuilt } from '../helpers/cli.js';
import { honestRig } from '../helpers/honestRig.js';

const hidden = [16];
const spec = modelSpecFor('CartPole-v1', hidden);
const T = 16,
  E = 4;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

const mb = (x: number) => Math.round(x / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Samples RSS while a flood runs; `stop` returns the peak. */
function rssPeak(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    stop: () => {
      clearInterval(t);
      return peak;
    },
  };
}

async function settled(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  return process.memoryUsage();
}

describe('limits at the socket', () => {
  it('total bytes across frames, frame count and a max-size flood: every message accounted, none held, training goes on', async () => {
    const { server, running, acting } = await honestRig(spec, T, E);
    const k = server.trainingLoop.intake.counts;
    await until(() => k.trained >= 5, 60_000, 'the honest actor to train');

    const legit = maxMessageBytes(T, E, spec.obsDim);
    const hostile = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0 });
    hostile.connect(server.endpoint);
    const lines: string[] = [];

    /** Send `n` messages of `frames`, wait until the learner has rejected all of them under `code`. */
    async function flood(label: string, code: string, frames: Buffer[], n: number): Promise<void> {
      const before = await settled();
      const r0 = k.rejectReasons[code] ?? 0;
      const tr0 = k.trained;
      const peak = rssPeak();
      for (let i = 0; i < n; i++) {
        await hostile.send(frames);
        if (i % 20 === 19) await new Promise((r) => setImmediate(r));
      }
      await until(() => (k.rejectReasons[code] ?? 0) - r0 >= n, 120_000, `${n} ${code} rejections`);
      const peakRss = peak.stop();
      const trainedDuring = k.trained - tr0;
      const after = await settled();
      const bytes = frames.reduce((s, f) => s + f.length, 0);
      lines.push(
        `${label}: ${n} messages x ${frames.length} frames = ${bytes} B each (${mb(n * bytes)} MiB in all): ` +
          `${(k.rejectReasons[code] ?? 0) - r0} rejected ${code}; RSS ${mb(before.rss)} -> peak ${mb(peakRss)} -> ${mb(after.rss)} MiB after; ` +
          `external ${mb(before.external)} -> ${mb(after.external)} MiB; ${trainedDuring} honest rollouts trained during it`,
      );
      expect((k.rejectReasons[code] ?? 0) - r0).toBe(n); // every hostile message accounted, exactly once
      expect(after.external - before.external).toBeLessThan(16 * 2 ** 20); // nothing of the flood is held
      await until(() => k.trained > tr0, 60_000, 'training to go on');
    }

    // (A) 13 frames of 60 KiB: each under maxMessageSize (legit + 1 KiB slack), together 780 KiB.
    const frameA = Buffer.alloc(60 * 1024, 1);
    expect(frameA.length).toBeLessThan(legit);
    expect(frameA.length * MAX_PAYLOAD_FRAMES).toBeGreaterThan(legit);
    await flood(
      '(A) over the total-bytes cap',
      'OVERSIZE',
      Array.from({ length: MAX_PAYLOAD_FRAMES }, () => frameA),
      150,
    );

    // (B) more frames than any message has, each small.
    await flood(
      '(B) over the frame-count cap',
      'BAD_FRAMES',
      Array.from({ length: 200 }, () => Buffer.alloc(512, 2)),
      200,
    );

    // (C) single frames of the largest legitimate size (garbage: no protocol magic).
    await flood('(C) max-size single frames', 'BAD_MAGIC', [Buffer.alloc(legit, 3)], 1500);

    hostile.close();
    server.stop('test done');
    const s = await running;
    await acting;
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    expect(s.rejectReasons.OVERSIZE).toBe(150);
    expect(s.rejectReasons.BAD_FRAMES).toBe(200);
    console.log(`socket limits (largest legitimate message ${legit} B):\n  ${lines.join('\n  ')}`);
  }, 300_000);
});
