/**
 * The training flags, one per TrainConfig field, shared by `train`, `learner` and `actor`.
 * No yargs defaults: a flag given on the command line wins over the preset, which wins over
 * DEFAULT_CONFIG. `buildConfig` merges, validates once and deep-freezes.
 */
import type { Options } from 'yargs';
import path from 'node:path';
import { DEFAULT_CONFIG, freezeConfig, objectiveLabel, validateConfig, type TrainConfig } from './config.js';
import { PRESETS } from './presets.js';
import { UsageError, parseNumberList } from './errors.js';
import { METHODS, type ObjectiveConfig } from '../learner/objectives/config.js';

type Field = { field: keyof TrainConfig | `objective.${keyof ObjectiveConfig}`; opt: Options };

const num = (describe: string): Options => ({ type: 'number', describe, nargs: 1 });
const str = (describe: string, choices?: readonly string[]): Options => ({ type: 'string', describe, nargs: 1, ...(choices ? { choices } : {}) });
const bool = (describe: string): Options => ({ type: 'boolean', describe });

const D = DEFAULT_CONFIG;
const O = D.objective;

/** Flag name -> config field and yargs option. Descriptions state the default. */
export const TRAIN_FLAGS: Record<string, Field> = {
  env: { field: 'env', opt: str(`environment (${D.env})`, ['CartPole-v1', 'Acrobot-v1']) },
  seed: { field: 'seed', opt: num(`master seed (${D.seed})`) },
  method: { field: 'objective.method', opt: str(`off-policy correction, THEORY.md section 2 (${O.method})`, METHODS) },
  eps: { field: 'objective.eps', opt: num(`ppo/cispo clip epsilon (${O.eps})`) },
  'rho-bar': { field: 'objective.rhoBar', opt: num(`V-trace rho_bar, also the vtrace weight's cap (${O.rhoBar})`) },
  'c-bar': { field: 'objective.cBar', opt: num(`V-trace c_bar (${O.cBar})`) },
  'tau-pos': { field: 'objective.tauPos', opt: num(`sapo temperature for A > 0 (${O.tauPos})`) },
  'tau-neg': { field: 'objective.tauNeg', opt: num(`sapo temperature for A <= 0 (${O.tauNeg})`) },
  'ess-min': { field: 'objective.essMin', opt: num(`v3.1 ESS floor (${O.essMin})`) },
  'tau-c': { field: 'objective.tauC', opt: num(`v3.1/v5 P_wrong temperature (${O.tauC})`) },
  'tau-h': { field: 'objective.tauH', opt: num(`v5 trust width (${O.tauH})`) },
  'gamma-base': { field: 'objective.gammaBase', opt: num(`v5 gamma at P_wrong = 0 (${O.gammaBase})`) },
  'gamma-max': { field: 'objective.gammaMax', opt: num(`v5 gamma at P_wrong = 1 (${O.gammaMax})`) },
  gamma: { field: 'objective.gamma', opt: num(`v5-fixed constant gamma (${O.gamma})`) },
  trust: { field: 'objective.trust', opt: str(`v5 trust function h (${O.trust})`, ['linear', 'log']) },
  'sft-trust': { field: 'objective.sftTrust', opt: bool('v5: multiply the SFT floor by h(w) too (off)') },
  floor: { field: 'objective.floor', opt: str(`v5 floor: const (the draft) or neg-is (${O.floor})`, ['const', 'neg-is']) },
  advantage: { field: 'advantage', opt: str(`advantage estimator (${D.advantage})`, ['vtrace', 'gae']) },
  'normalize-advantages': { field: 'normalizeAdvantages', opt: bool('normalise advantages per batch (on; --no-normalize-advantages)') },
  discount: { field: 'discount', opt: num(`discount gamma (${D.discount})`) },
  lambda: { field: 'lambda', opt: num(`GAE / V-trace lambda (${D.lambda})`) },
  hidden: { field: 'hidden', opt: str(`hidden layer widths (${D.hidden.join(',')})`) },
  lr: { field: 'lr', opt: num(`Adam learning rate (${D.lr})`) },
  'anneal-lr': { field: 'annealLr', opt: bool('decay the learning rate linearly over --steps (on)') },
  'adam-eps': { field: 'adamEps', opt: num(`Adam epsilon (${D.adamEps})`) },
  epochs: { field: 'epochs', opt: num(`passes over each batch (${D.epochs})`) },
  minibatches: { field: 'minibatches', opt: num(`minibatches per epoch (${D.minibatches})`) },
  'ent-coef': { field: 'entCoef', opt: num(`entropy bonus (${D.entCoef})`) },
  'vf-coef': { field: 'vfCoef', opt: num(`value loss coefficient (${D.vfCoef})`) },
  'max-grad-norm': { field: 'maxGradNorm', opt: num(`gradient-norm clip (${D.maxGradNorm})`) },
  'segment-steps': { field: 'segmentSteps', opt: num(`steps per env per rollout, T (${D.segmentSteps})`) },
  'envs-per-worker': { field: 'envsPerWorker', opt: num(`environments per worker thread, E (${D.envsPerWorker})`) },
  workers: { field: 'workers', opt: num(`worker threads per actor, W (${D.workers})`) },
  actors: { field: 'actors', opt: num(`actor processes, N (${D.actors})`) },
  'batch-segments': { field: 'batchSegments', opt: num('rollouts per update, B (actors x workers)') },
  lag: { field: 'lag', opt: str(`lag injection: none | fixed:K | uniform:K1-K2 | geometric:MEAN (${D.lag})`) },
  'actor-delay-ms': { field: 'actorDelayMs', opt: num(`delay each rollout in the actor, ms (${D.actorDelayMs})`) },
  'max-lag': { field: 'maxLag', opt: num('drop rollouts older than this many versions (-1: no limit)') },
  'history-versions': { field: 'historyVersions', opt: num(`parameter versions kept for lag injection (${D.historyVersions})`) },
  'max-inflight': { field: 'maxInFlight', opt: num(`unacknowledged rollouts per worker (${D.maxInFlight}; more = more natural lag)`) },
  'queue-capacity': { field: 'queueCapacity', opt: num('intake queue capacity in rollouts (4 x batch-segments, at least actors x workers x max-inflight)') },
  steps: { field: 'steps', opt: num(`environment-step budget (${D.steps})`) },
  time: { field: 'timeSec', opt: num('wall-time budget in seconds (0: none)') },
  'target-return': { field: 'targetReturn', opt: num('stop when an evaluation of the current policy reaches this mean return') },
  'eval-every': { field: 'evalEvery', opt: num(`evaluate the current policy every N updates (${D.evalEvery}; 0: never)`) },
  'eval-episodes': { field: 'evalEpisodes', opt: num(`episodes per evaluation (${D.evalEpisodes})`) },
  'final-eval-episodes': { field: 'finalEvalEpisodes', opt: num(`episodes of the final evaluation (${D.finalEvalEpisodes})`) },
  'collapse-entropy': { field: 'collapseEntropy', opt: num(`entropy (nats) below which a policy worse than random is flagged collapsed (${D.collapseEntropy})`) },
  deterministic: { field: 'deterministic', opt: bool('fixed schedule of versions and training order: the run is a function of config and seed') },
  grad: { field: 'grad', opt: str('gradient path: js (float64 backward pass, default) or tfjs (autodiff on --backend)', ['js', 'tfjs']) },
  backend: { field: 'backend', opt: str('tensor backend (auto: tfjs-node if it loads, else wasm, else cpu)', ['auto', 'node', 'wasm', 'cpu']) },
};

/** yargs options for the training flags plus --preset, --run-dir, --run-id. */
export function trainOptions(): Record<string, Options> {
  const out: Record<string, Options> = {
    preset: str(`start from a preset (${Object.keys(PRESETS).join(', ')}); explicit flags override it`, Object.keys(PRESETS)),
    'run-dir': str('run directory (runs/<run-id>)'),
    'run-id': str('run id (<env>_<label>_<lag>_s<seed>_<time>)'),
  };
  for (const [flag, f] of Object.entries(TRAIN_FLAGS)) out[flag] = { ...f.opt, group: 'Training:' };
  return out;
}

function setField(cfg: TrainConfig, field: string, value: unknown): void {
  if (field.startsWith('objective.')) (cfg.objective as unknown as Record<string, unknown>)[field.slice(10)] = value;
  else (cfg as unknown as Record<string, unknown>)[field] = value;
}

/** Merge defaults, preset and flags; validate; freeze. Throws UsageError naming the flag. */
export function buildConfig(argv: Record<string, unknown>): TrainConfig {
  const presetName = argv.preset as string | undefined;
  const preset = presetName ? PRESETS[presetName] : undefined;
  if (presetName && !preset) throw new UsageError(`--preset: '${presetName}' is not a preset; use one of ${Object.keys(PRESETS).join(', ')}`);
  const cfg = structuredClone({ ...DEFAULT_CONFIG, ...(preset?.config ?? {}), runId: '', runDir: '', label: '', preset: presetName ?? null }) as TrainConfig;
  cfg.objective = { ...DEFAULT_CONFIG.objective, ...(preset?.config.objective ?? {}) };
  const explicit = new Set<string>();
  for (const [flag, f] of Object.entries(TRAIN_FLAGS)) {
    const v = argv[flag];
    if (v === undefined) continue;
    if (Array.isArray(v)) throw new UsageError(`--${flag}: given ${v.length} times (${v.join(', ')}); give it once`);
    explicit.add(f.field);
    if (f.opt.type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`--${flag}: '${String(v)}' is not a finite number`);
    }
    setField(cfg, f.field, flag === 'hidden' ? parseNumberList('hidden', v) : v);
  }
  if (cfg.objective.method === 'vtrace' && !explicit.has('advantage')) cfg.advantage = 'vtrace';
  if (!explicit.has('batchSegments') && !preset?.config.batchSegments) cfg.batchSegments = cfg.actors * cfg.workers;
  if (!explicit.has('queueCapacity')) cfg.queueCapacity = Math.max(4 * cfg.batchSegments, cfg.actors * cfg.workers * cfg.maxInFlight);
  cfg.label = objectiveLabel(cfg.objective);
  const lagTag = cfg.lag.replace(':', '');
  cfg.runId = (argv['run-id'] as string | undefined) ?? `${cfg.env}_${cfg.label.replace(/[ =]/g, '-')}_${lagTag}_s${cfg.seed}_${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  cfg.runDir = path.resolve((argv['run-dir'] as string | undefined) ?? path.join('runs', cfg.runId));
  if (cfg.deterministic && !explicit.has('maxInFlight')) cfg.maxInFlight = cfg.batchSegments / (cfg.actors * cfg.workers);
  validateConfig(cfg);
  return freezeConfig(cfg);
}
