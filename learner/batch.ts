/**
 * Turning B rollout segments into one flat training batch: a forward pass of the current
 * parameters over every observation (plus the bootstrap and final observations; the float64
 * forward pass of model/grad.ts on the learner's Workspace), the log-ratios
 * log w = clamp(log pi - log mu, -20, 20), and the advantages of docs/METHODS.md section 4.
 */
import type { RolloutMsg } from '../protocol/messages.js';
import type { ModelSpec } from '../model/spec.js';
import { distributionOf } from '../model/distributions.js';
import { permutation } from '../model/rng.js';
import { LOG_RATIO_CLAMP } from './objectives/kernel.js';
import { gae, groupAdvantages, normalize, responseMeanLogRatio, rewardAdvantages, vtrace } from './advantages.js';
import type { LearnerConfig } from './config.js';

/** A segment taken from the intake queue, with its policy lag at this update. */
export interface TrainingSegment {
  msg: RolloutMsg;
  /** Learner version being updated minus the segment's behaviour version. */
  lag: number;
}

/** One flat batch, sample-major. */
export interface Batch {
  n: number;
  obs: Float32Array;
  /** Discrete actions (n); empty with a Gaussian head. */
  actions: Int32Array;
  /** Box actions (n x A, as sampled, unclipped) with a Gaussian head; absent for discrete actions. */
  boxActions?: Float32Array;
  logmu: Float32Array;
  /** Advantages that enter the loss (normalised when configured). */
  adv: Float32Array;
  /** Value targets. */
  targets: Float32Array;
  /** Lag of each sample, in versions. */
  lag: Int32Array;
  /** log w under the parameters before the update (clamped). */
  logRatio: Float64Array;
  /** Mean policy entropy (nats) before the update. */
  entropy: number;
  /** Response id of each row (`--ratio sequence`: whole responses per minibatch), else absent. */
  response?: Int32Array;
  /** Sequence-task facts for the diagnostics (whole batch only), else absent. */
  seq?: SequenceRows;
}

/** Per row of a sequence-task batch: who wrote it, its token position, and how its response ended. */
export interface SequenceRows {
  /** 0 = policy, 1 = teacher (the rollout's per-env source). */
  source: Uint8Array;
  /** Token position within the response (the step t of the segment). */
  position: Int32Array;
  /** -1 not the last token; at the last token 1 for an exact match (reward >= 1), else 0. */
  final: Int8Array;
}

/** A batch's inputs gathered from its segments, before the forward pass (`gatherBatch`). */
export interface BatchInputs {
  /** Samples, bootstrap rows (one per env per segment) and final rows (one per truncation). */
  n: number;
  nBoot: number;
  nFinal: number;
  /** All observations for one forward pass: [samples | bootstrap | final] (rows x obsDim). */
  allObs: Float32Array;
  actions: Int32Array;
  /** Box envs (the Gaussian head): the actions, n x A; absent for discrete actions. */
  boxActions?: Float32Array;
  logmu: Float32Array;
  lag: Int32Array;
}

/** Gather the segments' arrays into one batch's inputs (copies, no forward pass). */
export function gatherBatch(spec: ModelSpec, segs: TrainingSegment[]): BatchInputs {
  const d = spec.obsDim;
  const head = distributionOf(spec);
  const aw = head.actionDim;
  let n = 0,
    nBoot = 0,
    nFinal = 0;
  for (const { msg } of segs) {
    n += msg.T * msg.E;
    nBoot += msg.E;
    nFinal += msg.finalObs.length / d;
  }
  const allObs = new Float32Array((n + nBoot + nFinal) * d);
  const { actions, boxActions } = head.newActions(n);
  const logmu = new Float32Array(n);
  const lag = new Int32Array(n);
  let o = 0,
    b = n * d,
    f = (n + nBoot) * d,
    s = 0;
  for (const { msg, lag: l } of segs) {
    allObs.set(msg.obs, o);
    o += msg.obs.length;
    allObs.set(msg.lastObs, b);
    b += msg.lastObs.length;
    allObs.set(msg.finalObs, f);
    f += msg.finalObs.length;
    const m = msg.T * msg.E;
    const src = head.box ? msg.boxActions : msg.actions;
    if (src === undefined || src.length !== m * aw)
      throw new RangeError(`rollout of actor ${msg.actorId} seq ${msg.seq} has no ${m * aw} actions for the ${head.kind} head`);
    (boxActions ?? actions).set(src, s * aw);
    logmu.set(msg.logmu, s);
    lag.fill(l, s, s + msg.T * msg.E);
    s += msg.T * msg.E;
  }
  return { n, nBoot, nFinal, allObs, actions, ...(boxActions === undefined ? {} : { boxActions }), logmu, lag };
}

/**
 * The batch from its inputs and the forward pass of the current parameters over all their
 * rows (`logits`: rows x nActions, `values`: rows): log-ratios, entropy, advantages, targets.
 */
export function finishBatch(
  spec: ModelSpec,
  segs: TrainingSegment[],
  cfg: LearnerConfig,
  inp: BatchInputs,
  logits: Float64Array,
  values: Float64Array,
  params: Float64Array,
): Batch {
  const d = spec.obsDim;
  const { n, nBoot, allObs, actions, boxActions, logmu, lag } = inp;
  const head = distributionOf(spec);
  const acts = head.actionsOf(inp, n);

  const logRatio = new Float64Array(n);
  let entSum = 0;
  for (let i = 0; i < n; i++) {
    const norm = head.normalizer(logits, i, params);
    entSum += head.entropy(logits, i, params, norm);
    logRatio[i] = Math.min(LOG_RATIO_CLAMP, Math.max(-LOG_RATIO_CLAMP, head.logProb(logits, i, params, acts, norm) - logmu[i]));
  }

  const sequence = cfg.ratio === 'sequence';
  const seqRows =
    cfg.advantage === 'group' || cfg.advantage === 'reward' || sequence || segs.some(({ msg }) => msg.source?.includes(1) ?? false);
  const response = sequence ? new Int32Array(n) : undefined;
  const rows: SequenceRows | undefined = seqRows
    ? { source: new Uint8Array(n), position: new Int32Array(n), final: new Int8Array(n).fill(-1) }
    : undefined;
  let r0 = 0,
    id = 0;
  for (const { msg } of segs) {
    for (let t = 0; t < msg.T; t++) {
      for (let e = 0; e < msg.E; e++) {
        const i = r0 + t * msg.E + e;
        if (response) response[i] = id + e;
        if (rows) {
          rows.source[i] = msg.source?.[e] ?? 0;
          rows.position[i] = t;
          if (msg.terminated[t * msg.E + e]) rows.final[i] = msg.rewards[t * msg.E + e] >= 1 ? 1 : 0;
        }
      }
    }
    r0 += msg.T * msg.E;
    id += msg.E;
  }
  // --ratio sequence: every token of a response gets the response's mean log-ratio.
  if (response) responseMeanLogRatio(logRatio, response, n);

  const adv64 = new Float64Array(n);
  const targets = new Float32Array(n);
  let s0 = 0,
    b0 = n,
    f0 = n + nBoot;
  for (const { msg } of segs) {
    const m = msg.T * msg.E;
    const nTr = msg.finalObs.length / d;
    const seg = {
      T: msg.T,
      E: msg.E,
      rewards: msg.rewards,
      terminated: msg.terminated,
      truncated: msg.truncated,
      values: values.subarray(s0, s0 + m),
      bootstrapValues: values.subarray(b0, b0 + msg.E),
      finalValues: values.subarray(f0, f0 + nTr),
    };
    const r =
      cfg.advantage === 'vtrace'
        ? vtrace(seg, logRatio.subarray(s0, s0 + m), cfg.discount, cfg.lambda, cfg.objective.rhoBar, cfg.objective.cBar)
        : gae(seg, cfg.discount, cfg.lambda);
    // group: the value head still learns its GAE targets; the policy gets the group advantage.
    adv64.set(
      cfg.advantage === 'group'
        ? groupAdvantages(seg, cfg.groupSize ?? 1)
        : cfg.advantage === 'reward'
          ? rewardAdvantages(seg)
          : r.advantages,
      s0,
    );
    targets.set(r.targets, s0);
    s0 += m;
    b0 += msg.E;
    f0 += nTr;
  }
  // Reward advantages stay raw: normalising would re-centre them.
  if (cfg.normalizeAdvantages && cfg.advantage !== 'reward') normalize(adv64);
  return {
    n,
    obs: allObs.subarray(0, n * d),
    actions,
    ...(boxActions === undefined ? {} : { boxActions }),
    logmu,
    adv: Float32Array.from(adv64),
    targets,
    lag,
    logRatio,
    entropy: entSum / n,
    ...(response ? { response } : {}),
    ...(rows ? { seq: rows } : {}),
  };
}

/**
 * The batch's rows in minibatch order for `--ratio sequence`: the responses in a random order
 * (Fisher-Yates from `rng`), each response's rows together, so that a minibatch of
 * n / minibatches rows holds whole responses whenever the response count is a multiple of
 * the minibatch count (else the responses cut at a boundary average over their rows present).
 */
export function responsePermutation(batch: Batch, rng: { int(n: number): number }): Int32Array {
  const resp = batch.response;
  if (!resp) throw new Error('responsePermutation: the batch has no response ids (ratio is not sequence)');
  let nResp = 0;
  for (let i = 0; i < batch.n; i++) nResp = Math.max(nResp, resp[i] + 1);
  const order = permutation(nResp, rng);
  const rowsOf: number[][] = Array.from({ length: nResp }, () => []);
  for (let i = 0; i < batch.n; i++) rowsOf[resp[i]].push(i);
  const out = new Int32Array(batch.n);
  let o = 0;
  for (const k of order) for (const i of rowsOf[k]) out[o++] = i;
  return out;
}

/** The rows `idx` of a batch, as a new batch (minibatch). */
export function selectRows(batch: Batch, idx: ArrayLike<number>, obsDim: number): Batch {
  const m = idx.length;
  const obs = new Float32Array(m * obsDim);
  const box = batch.boxActions;
  const A = box === undefined || batch.n === 0 ? 0 : box.length / batch.n;
  const boxActions = box === undefined ? undefined : new Float32Array(m * A);
  const actions = new Int32Array(box === undefined ? m : 0),
    logmu = new Float32Array(m),
    adv = new Float32Array(m);
  const targets = new Float32Array(m),
    lag = new Int32Array(m),
    logRatio = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const i = idx[k];
    obs.set(batch.obs.subarray(i * obsDim, (i + 1) * obsDim), k * obsDim);
    if (boxActions === undefined) actions[k] = batch.actions[i];
    else boxActions.set(box!.subarray(i * A, (i + 1) * A), k * A);
    logmu[k] = batch.logmu[i];
    adv[k] = batch.adv[i];
    targets[k] = batch.targets[i];
    lag[k] = batch.lag[i];
    logRatio[k] = batch.logRatio[i];
  }
  const response = batch.response ? Int32Array.from(idx, (i) => batch.response![i]) : undefined;
  return {
    n: m,
    obs,
    actions,
    ...(boxActions === undefined ? {} : { boxActions }),
    logmu,
    adv,
    targets,
    lag,
    logRatio,
    entropy: batch.entropy,
    ...(response ? { response } : {}),
  };
}
