/**
 * What this machine gives N threads that share nothing: a pure arithmetic loop (no shared
 * data, no synchronisation, no allocation) in 1 worker thread, then in N at once, then in 1
 * again; the ratio of the N threads' summed rate to the mean of the two 1-thread rates. A
 * learner's N-thread speedup cannot beat it: on a 2-vCPU virtual machine it is often below 2
 * (a vCPU shares its core with other guests' work). Printed next to the thread targets.
 */
import { Worker } from 'node:worker_threads';

/** The loop, run for `ms` in a worker: iterations per second back to the parent. */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const a = new Float64Array(4096).fill(1.0001);
let s = 0, n = 0;
const t0 = performance.now();
while (performance.now() - t0 < workerData) {
  for (let r = 0; r < 50; r++) for (let i = 0; i < 4096; i++) s += a[i] * a[(i * 7) & 4095];
  n++;
}
parentPort.postMessage({ rate: (n * 1000) / (performance.now() - t0), s });
`;

function runLoops(threads: number, ms: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(LOOP, { eval: true, workerData: ms });
          w.once('message', (m: { rate: number }) => {
            resolve(m.rate);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
}

export interface ComputeCeiling {
  threads: number;
  /** Summed rate of `threads` loops over one loop's rate (mean of the runs before and after). */
  ratio: number;
  /** Loop iterations/s: one thread before, each of the N threads, one thread after. */
  oneBefore: number;
  each: number[];
  oneAfter: number;
}

export async function computeCeiling(threads: number, ms = 1500): Promise<ComputeCeiling> {
  const [oneBefore] = await runLoops(1, ms);
  const each = await runLoops(threads, ms);
  const [oneAfter] = await runLoops(1, ms);
  const one = (oneBefore! + oneAfter!) / 2;
  return { threads, ratio: each.reduce((x, y) => x + y, 0) / one, oneBefore: oneBefore!, each, oneAfter: oneAfter! };
}
