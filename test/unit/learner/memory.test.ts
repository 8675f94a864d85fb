/**
 * Memory stays flat: across 200 updates the learner's heap does not grow (in-process js
 * path, and the main thread with learner threads), and the tfjs path leaks no tensor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initBackend, tfjs } from '../../../model/backend.js';
import { initParams } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import type { LearnerConfig } from '../../../learner/config.js';
import type { TrainingSegment } from '../../../learner/batch.js';
import { MsgType } from '../../../protocol/messages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const spec = { obsDim: 4, nActions: 2, hidden: [16, 16] };
const base: LearnerConfig = {
  objective: { ...DEFAULT_OBJECTIVE, method: 'v5' },
  advantage: 'vtrace',
  normalizeAdvantages: true,
  discount: 0.99,
  lambda: 0.95,
  lr: 1e-4,
  annealLr: true,
  adamEps: 1e-5,
  epochs: 1,
  minibatches: 4,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  steps: 1e6,
  grad: 'js',
};

const p0 = initParams(spec, 3);
const collector = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed: 5, modelSpec: spec });
const segs: TrainingSegment[] = Array.from({ length: 8 }, (_, j) => ({
  lag: j % 3,
  msg: { type: MsgType.Rollout, actorId: 0, seq: j, workerId: 0, behaviourVersion: 0, ...collector.collect(p0, 32) },
}));

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Heap growth (MB) from after `warm` updates to after 200 more. */
async function growth(l: Learner, after?: () => void): Promise<number> {
  let k = 0;
  const run = async (count: number) => {
    for (let i = 0; i < count; i++, k++) {
      await l.update([segs[k % 8]!, segs[(k + 1) % 8]!], k * 256);
      after?.();
    }
  };
  await run(30);
  const before = heapMB();
  await run(200);
  return heapMB() - before;
}

const learners: Learner[] = [];
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await Promise.all(learners.map((l) => l.dispose()));
});

describe('memory across 200 updates', () => {
  it('js path, in-process: the heap does not grow', async () => {
    const l = new Learner(spec, base, p0, 1);
    learners.push(l);
    expect(await growth(l)).toBeLessThan(0.25); // < 1.3 KB per update
    expect(l.version).toBe(230);
  });

  it('js path, 2 learner threads: the main thread heap does not grow', async () => {
    const l = new Learner(spec, { ...base, learnerThreads: 2 }, p0, 1);
    learners.push(l);
    expect(await growth(l)).toBeLessThan(0.25); // < 1.3 KB per update
  });

  it('tfjs path: no tensor is left behind and the heap does not grow', async () => {
    const tf = tfjs();
    const l = new Learner(spec, { ...base, grad: 'tfjs' }, p0, 1);
    learners.push(l);
    const tensors0 = tf.memory().numTensors;
    let maxTensors = tensors0;
    const g = await growth(l, () => {
      maxTensors = Math.max(maxTensors, tf.memory().numTensors);
    });
    expect(tf.memory().numTensors).toBe(tensors0);
    expect(maxTensors).toBe(tensors0); // none left between updates either
    expect(g).toBeLessThan(1.5); // measured about 0.5 MB: tfjs' own caches warming
  });
});
