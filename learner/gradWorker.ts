/**
 * One learner gradient thread (learner/threads.ts): on 'fwd' it gathers its shard's rows of the
 * current minibatch from the shared batch, runs the first half of the loss (`lossForwardJs`)
 * at the shared parameters and writes log w of its rows into the shared log w; on 'bwd' it
 * reads g of its rows and runs the second half (`lossBackwardJs`) into its gradient slot. The
 * forward activations stay in this thread's Workspace between the two phases. Errors are
 * posted back, never thrown across the thread boundary.
 */
import { parentPort } from 'node:worker_threads';
import type { ModelSpec } from '../model/spec.js';
import { paramCount } from '../model/params.js';
import { forwardTrain, Workspace } from '../model/grad.js';
import { lossBackwardJs, lossForwardJs } from './lossJs.js';
import type { Batch } from './batch.js';
import type { LearnerConfig } from './config.js';
import { batchViews, SUM_FIELDS, type FromWorker, type SharedBatch, type SharedBatchViews, type ToWorker } from './threads.js';

interface State {
  shard: number;
  spec: ModelSpec;
  cfg: LearnerConfig;
  params: Float64Array;
  grad: Float64Array;
  sums: Float64Array;
  ws: Workspace;
  batch: SharedBatch | null;
  src: SharedBatchViews | null;
  /** This shard's rows, gathered (capacity grows on demand). */
  mb: Batch;
  lo: number;
  invN: number;
  rows: { obs: Float32Array; logits: Float64Array; values: Float64Array } | null;
}

let st: State | null = null;

function emptyBatch(rows: number, d: number): Batch {
  return {
    n: 0,
    obs: new Float32Array(rows * d),
    actions: new Int32Array(rows),
    logmu: new Float32Array(rows),
    adv: new Float32Array(rows),
    targets: new Float32Array(rows),
    lag: new Int32Array(0),
    logRatio: new Float64Array(0),
    entropy: 0,
  };
}

function fwd(s: State, lo: number, hi: number, invN: number): void {
  const src = s.src;
  if (src === null) throw new Error("'fwd' before 'batch'");
  const n = hi - lo;
  const d = s.spec.obsDim;
  if (s.mb.actions.length < n) s.mb = emptyBatch(Math.max(n, 2 * s.mb.actions.length), d);
  const mb = s.mb;
  mb.n = n;
  for (let k = 0; k < n; k++) {
    const i = src.idx[lo + k];
    for (let c = 0; c < d; c++) mb.obs[k * d + c] = src.obs[i * d + c]; // no subarray per row
    mb.actions[k] = src.actions[i];
    mb.logmu[k] = src.logmu[i];
    mb.adv[k] = src.adv[i];
    mb.targets[k] = src.targets[i];
  }
  s.lo = lo;
  s.invN = invN;
  const o = s.shard * SUM_FIELDS;
  const r = n === 0 ? { entSum: 0, vlSum: 0 } : lossForwardJs(s.spec, s.cfg, s.params, mb, s.ws, src.logRatio.subarray(lo, hi), invN);
  s.sums[o] = r?.entSum ?? NaN;
  s.sums[o + 1] = r?.vlSum ?? NaN;
  s.sums[o + 3] = r === null ? 0 : 1;
}

function bwd(s: State): void {
  const src = s.src!;
  const n = s.mb.n;
  if (n === 0) {
    s.grad.fill(0);
    s.sums[s.shard * SUM_FIELDS + 2] = 0;
    return;
  }
  s.sums[s.shard * SUM_FIELDS + 2] = lossBackwardJs(s.spec, s.params, s.mb, s.ws, src.g.subarray(s.lo, s.lo + n), s.grad, s.invN);
}

/** The batch-building forward pass over rows [lo, hi) of the shared rows buffers. */
function rows(s: State, lo: number, hi: number): void {
  const R = s.rows;
  if (R === null) throw new Error("'rows' before 'rowsBuffers'");
  const n = hi - lo;
  if (n === 0) return;
  const d = s.spec.obsDim,
    nA = s.spec.nActions;
  forwardTrain(s.spec, s.params, R.obs.subarray(lo * d, hi * d), n, s.ws);
  R.logits.set(s.ws.logits.subarray(0, n * nA), lo * nA);
  R.values.set(s.ws.values.subarray(0, n), lo);
}

function handle(m: ToWorker): void {
  if (m.op === 'init') {
    const count = paramCount(m.spec);
    st = {
      shard: m.shard,
      spec: m.spec,
      cfg: m.cfg,
      params: new Float64Array(m.params),
      grad: new Float64Array(m.grads, 8 * count * m.shard, count),
      sums: new Float64Array(m.sums),
      ws: new Workspace(m.spec, 64),
      batch: null,
      src: null,
      mb: emptyBatch(64, m.spec.obsDim),
      lo: 0,
      invN: 1,
      rows: null,
    };
    return;
  }
  const s = st;
  if (s === null) throw new Error(`'${m.op}' before 'init'`);
  switch (m.op) {
    case 'batch': {
      const b = m.batch;
      s.batch = b;
      s.src = batchViews(b);
      return;
    }
    case 'rowsBuffers':
      s.rows = { obs: new Float32Array(m.rows.obs), logits: new Float64Array(m.rows.logits), values: new Float64Array(m.rows.values) };
      return;
    case 'rows':
      rows(s, m.lo, m.hi);
      break;
    case 'fwd':
      fwd(s, m.lo, m.hi, m.invN);
      break;
    case 'bwd':
      bwd(s);
      break;
  }
  parentPort!.postMessage({ op: 'done' } satisfies FromWorker);
}

parentPort!.on('message', (m: ToWorker) => {
  try {
    handle(m);
  } catch (e) {
    parentPort!.postMessage({ op: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
  }
});
