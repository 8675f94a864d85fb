/**
 * Sequence tasks: a prompt of L digits in base V, a response of L tokens written one per step
 * by the policy, a reward by rule at the last step: the fraction of positions right (1 exactly
 * when the whole response matches). Three tasks:
 *   seq-reverse: the prompt reversed;
 *   seq-sort:    the prompt's digits in ascending order;
 *   seq-add:     the prompt is two numbers a, b of L/2 digits each, least significant digit
 *                first; the target is a + b in base V, least significant digit first, padded
 *                with zeros to L digits (L even).
 * The observation is one-hot: prompt (L x V), tokens written so far (L x V, zero rows for the
 * positions not yet written) and the current position (L), so an MLP with a categorical head
 * is an autoregressive policy. `oracle()` returns the right next token (the teacher uses it).
 * Env ids: `seq-reverse` (defaults V = 10, L = 4) or `seq-reverse-v12-l6` for other settings;
 * the registry creates the latter on demand (`seqPluginFor`).
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const SEQ_TASKS = ['seq-reverse', 'seq-sort', 'seq-add'] as const;
export type SeqTask = (typeof SEQ_TASKS)[number];

/** Default vocabulary (base) and prompt / response length. */
export const SEQ_DEFAULTS = Object.freeze({ vocab: 10, length: 4 });

export interface SeqSettings {
  vocab: number;
  length: number;
}

/** A plug-in instance that knows the right next token. */
export interface OracleInstance extends EnvPluginInstance {
  /** The right token at the current position. */
  oracle(): number;
}

/** True when `x` has an `oracle()` method. */
export function hasOracle(x: EnvPluginInstance): x is OracleInstance {
  return typeof (x as Partial<OracleInstance>).oracle === 'function';
}

/** Why (task, V, L) is not a valid task, or null. */
export function seqSettingsProblem(task: string, s: SeqSettings): string | null {
  if (!Number.isInteger(s.vocab) || s.vocab < 2) return `vocabulary ${s.vocab} must be an integer >= 2`;
  if (!Number.isInteger(s.length) || s.length < 1) return `length ${s.length} must be an integer >= 1`;
  if (task === 'seq-add' && s.length % 2 !== 0) return `seq-add needs an even length (two numbers of L/2 digits), got ${s.length}`;
  return null;
}

/** The env id of a task with settings: the bare task name for the defaults. */
export function seqEnvId(task: SeqTask, s: SeqSettings): string {
  return s.vocab === SEQ_DEFAULTS.vocab && s.length === SEQ_DEFAULTS.length ? task : `${task}-v${s.vocab}-l${s.length}`;
}

/** The task and settings of a sequence env id, or null when `id` is not one. */
export function parseSeqEnvId(id: string): { task: SeqTask; settings: SeqSettings } | null {
  const m = /^(seq-reverse|seq-sort|seq-add)(?:-v(\d+)-l(\d+))?$/.exec(id);
  if (!m) return null;
  const settings = m[2] === undefined ? { ...SEQ_DEFAULTS } : { vocab: Number(m[2]), length: Number(m[3]) };
  if (seqSettingsProblem(m[1], settings) !== null) return null;
  return { task: m[1] as SeqTask, settings };
}

/** True for a sequence task id (`seq-reverse`, `seq-add-v12-l6`, ...). */
export function isSeqEnv(id: string): boolean {
  return parseSeqEnvId(id) !== null;
}

/** The target response of `task` for `prompt` in base `vocab` (written into `out`). */
export function seqTarget(task: SeqTask, prompt: ArrayLike<number>, vocab: number, out: Int32Array): Int32Array {
  const L = prompt.length;
  if (task === 'seq-reverse') {
    for (let i = 0; i < L; i++) out[i] = prompt[L - 1 - i];
  } else if (task === 'seq-sort') {
    const s = Array.from(prompt).sort((a, b) => a - b);
    for (let i = 0; i < L; i++) out[i] = s[i];
  } else {
    const h = L / 2;
    let carry = 0;
    for (let i = 0; i < L; i++) {
      const x = (i < h ? prompt[i] + prompt[h + i] : 0) + carry;
      out[i] = x % vocab;
      carry = Math.floor(x / vocab);
    }
  }
  return out;
}

/** Observation size: prompt and response one-hot (L x V each) plus the position one-hot (L). */
export function seqObservationSize(s: SeqSettings): number {
  return 2 * s.length * s.vocab + s.length;
}

/** One sequence episode. */
export class SeqEnv implements OracleInstance {
  readonly prompt: Int32Array;
  readonly target: Int32Array;
  readonly response: Int32Array;
  private pos = 0;
  private readonly V: number;
  private readonly L: number;

  constructor(
    readonly task: SeqTask,
    s: SeqSettings,
  ) {
    this.V = s.vocab;
    this.L = s.length;
    this.prompt = new Int32Array(s.length);
    this.target = new Int32Array(s.length);
    this.response = new Int32Array(s.length);
  }

  /** A prompt of L uniform digits from `new Rng(seed)`. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    for (let i = 0; i < this.L; i++) this.prompt[i] = rng.int(this.V);
    seqTarget(this.task, this.prompt, this.V, this.target);
    this.pos = 0;
    return this.observe();
  }

  oracle(): number {
    return this.target[Math.min(this.pos, this.L - 1)];
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (typeof action !== 'number' || !Number.isInteger(action) || action < 0 || action >= this.V) {
      throw new RangeError(`${this.task} action must be a token in [0, ${this.V}), got ${String(action)}`);
    }
    if (this.pos >= this.L) throw new Error(`${this.task}: step after the response is complete; reset first`);
    this.response[this.pos++] = action;
    const done = this.pos === this.L;
    let reward = 0;
    if (done) {
      let right = 0;
      for (let i = 0; i < this.L; i++) if (this.response[i] === this.target[i]) right++;
      reward = right / this.L;
    }
    return { observation: this.observe(), reward, terminated: done, truncated: false };
  }

  private observe(): Float32Array {
    const V = this.V,
      L = this.L;
    const o = new Float32Array(2 * L * V + L);
    for (let i = 0; i < L; i++) o[i * V + this.prompt[i]] = 1;
    for (let i = 0; i < this.pos; i++) o[L * V + i * V + this.response[i]] = 1;
    if (this.pos < L) o[2 * L * V + this.pos] = 1;
    return o;
  }
}

/** The plug-in of `task` with settings `s`; throws a RangeError for invalid settings. */
export function seqPlugin(task: SeqTask, s: SeqSettings): EnvPlugin {
  const problem = seqSettingsProblem(task, s);
  if (problem !== null) throw new RangeError(`${task}: ${problem}`);
  const spec: EnvPluginSpec = {
    observationSize: seqObservationSize(s),
    action: { type: 'discrete', n: s.vocab },
    maxEpisodeSteps: s.length,
    rewardRange: [0, 1], // the fraction of positions right, at the last step only
  };
  const settings = { vocab: s.vocab, length: s.length };
  return { spec, create: () => new SeqEnv(task, settings) };
}

/** The plug-in of a sequence env id (defaults or `-vV-lL`), or null when `id` is not one. */
export function seqPluginFor(id: string): EnvPlugin | null {
  const p = parseSeqEnvId(id);
  return p === null ? null : seqPlugin(p.task, p.settings);
}

/** The three tasks with the default settings (built-in envs). */
export const SEQ_ENVS: Record<SeqTask, EnvPlugin> = {
  'seq-reverse': seqPlugin('seq-reverse', SEQ_DEFAULTS),
  'seq-sort': seqPlugin('seq-sort', SEQ_DEFAULTS),
  'seq-add': seqPlugin('seq-add', SEQ_DEFAULTS),
};
