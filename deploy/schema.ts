/**
 * The one field table: every run setting, one row each, with its long flag, its config key,
 * type, default, accepted range, help text, group and where the default comes from. It drives
 * the yargs options (options.ts), the one validator (config.ts `validateConfig`, also used by
 * `weights` for its objective flags), config files (`--config`, keyed by long flag names), the
 * saved config.json and the README's flag table (`flagTableMarkdown`).
 */
import { DEFAULT_ENV_TIMEOUT_SEC } from '../envs/watchdog.js';
import { DEFAULT_OBJECTIVE, OBJECTIVE_CHOICES, OBJECTIVE_RANGES as R } from '../protocol/objectiveConfig.js';
import { formatLag, lagSpecFrom, type LagSpec } from '../protocol/lag.js';
import { teacherShareOf } from '../envs/config.js';
import { SEQ_DEFAULTS } from '../envs/seq.js';
import { UsageError } from './errors.js';
import { PRESETS } from './presets.js';

export const GROUPS = [
  'objective',
  'model',
  'environment',
  'actors and lag',
  'learner and optimiser',
  'evaluation',
  'stopping',
  'run',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * How a value is typed: a finite number, an integer, a boolean, one of `choices`, a list of
 * positive integers (`64,64`), a lag schedule, a number or null, or a free string.
 */
export type Kind = 'number' | 'integer' | 'boolean' | 'choice' | 'int-list' | 'lag' | 'number-or-null' | 'string' | 'behaviour';

export interface FieldRow {
  /** Long flag name, also the key in a config file. */
  flag: string;
  /** Config key: a RunConfig field, or 'objective.<field>'. */
  key: string;
  kind: Kind;
  choices?: readonly string[];
  /** A choice row: further accepted values beyond `choices` (e.g. `seq-reverse-v12-l6`). */
  accepts?: (v: string) => boolean;
  /** The default value (typed), or null for "none". Ignored when `derived` is set and the field is not given. */
  default: unknown;
  /** How the default is computed when the field is not given (shown instead of `default`). */
  derived?: string;
  /** Accepted range of a numeric field: the test and how the error states it. */
  range?: { ok: (x: number) => boolean; text: string };
  help: string;
  group: Group;
  /** Where the default comes from. */
  source: string;
}

const O = DEFAULT_OBJECTIVE;
const pos = { ok: (x: number) => x > 0, text: '> 0' };
const nonNeg = { ok: (x: number) => x >= 0, text: '>= 0' };
const atLeast1 = { ok: (x: number) => x >= 1, text: '>= 1' };
const unit = { ok: (x: number) => x >= 0 && x <= 1, text: 'in [0, 1]' };
const SPEC = 'docs/METHODS.md section 2 (the draft spec)';
const CLEANRL = 'CleanRL ppo.py';
const ZOO = 'RL Baselines Zoo ppo.yml CartPole-v1';

/** Every setting, grouped by concern, in help and README order. */
export const FIELDS: readonly FieldRow[] = [
  // objective
  {
    flag: 'method',
    key: 'objective.method',
    kind: 'choice',
    choices: OBJECTIVE_CHOICES.method,
    default: O.method,
    help: "off-policy correction; --method v5 is the draft's IS Reshape v5 (constant floor: add --floor neg-is for the variant that did not collapse)",
    group: 'objective',
    source:
      'measured: docs/findings/results.ndjson, IMPALA-style CartPole 10 seeds x lags 0/16/64: ppo reached 475 in 28/30 runs, 0 collapsed; v5 --floor neg-is 27/30; the draft v5 15/30, 14 collapsed; cartpole preset, lags 0-64: ppo 40/40, v5 neg-is 30/40 (README)',
  },
  {
    flag: 'eps',
    key: 'objective.eps',
    kind: 'number',
    default: O.eps,
    range: R.eps,
    help: 'ppo / cispo clip range',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'rho-bar',
    key: 'objective.rhoBar',
    kind: 'number',
    default: O.rhoBar,
    range: R.rhoBar,
    help: "V-trace rho_bar, also the vtrace weight's cap",
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'c-bar',
    key: 'objective.cBar',
    kind: 'number',
    default: O.cBar,
    range: R.cBar,
    help: 'V-trace trace cutting c_bar',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'tau-pos',
    key: 'objective.tauPos',
    kind: 'number',
    default: O.tauPos,
    range: R.tauPos,
    help: 'sapo temperature for A > 0',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'tau-neg',
    key: 'objective.tauNeg',
    kind: 'number',
    default: O.tauNeg,
    range: R.tauNeg,
    help: 'sapo temperature for A <= 0',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'ess-min',
    key: 'objective.essMin',
    kind: 'number',
    default: O.essMin,
    range: R.essMin,
    help: 'v3.1 ESS floor for gamma_ess',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'tau-c',
    key: 'objective.tauC',
    kind: 'number',
    default: O.tauC,
    range: R.tauC,
    help: 'v3.1 / v5 temperature of P_wrong',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'tau-h',
    key: 'objective.tauH',
    kind: 'number',
    default: O.tauH,
    range: R.tauH,
    help: 'v5 / v5-fixed trust width tau_h',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'gamma-base',
    key: 'objective.gammaBase',
    kind: 'number',
    default: O.gammaBase,
    range: R.gammaBase,
    help: 'v5 gamma at P_wrong = 0 (<= --gamma-max)',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'gamma-max',
    key: 'objective.gammaMax',
    kind: 'number',
    default: O.gammaMax,
    range: R.gammaMax,
    help: 'v5 gamma at P_wrong = 1',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'gamma',
    key: 'objective.gamma',
    kind: 'number',
    default: O.gamma,
    range: R.gamma,
    help: 'v5-fixed constant gamma',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'trust',
    key: 'objective.trust',
    kind: 'choice',
    choices: OBJECTIVE_CHOICES.trust,
    default: O.trust,
    help: 'v5 / v5-fixed trust function h',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'sft-trust',
    key: 'objective.sftTrust',
    kind: 'boolean',
    default: O.sftTrust,
    help: 'v5 / v5-fixed: multiply the SFT floor by h(w) too',
    group: 'objective',
    source: SPEC,
  },
  {
    flag: 'floor',
    key: 'objective.floor',
    kind: 'choice',
    choices: OBJECTIVE_CHOICES.floor,
    default: O.floor,
    help: "v5 / v5-fixed floor: const (the draft), neg-is (docs/METHODS.md section 3.6) or max1 (g >= 1 where A log w < 0, the draft's rejected alternative; section 2.3)",
    group: 'objective',
    source: `${SPEC}; neg-is measured better; max1 from the draft's text, measured in docs/FINDINGS.md`,
  },
  // model
  {
    flag: 'hidden',
    key: 'hidden',
    kind: 'int-list',
    default: [64, 64],
    help: 'hidden layer widths of the policy and value MLPs (tanh)',
    group: 'model',
    source: CLEANRL,
  },
  {
    flag: 'grad',
    key: 'grad',
    kind: 'choice',
    choices: ['js', 'tfjs'],
    default: 'js',
    help: 'gradient path: js (float64 backward pass) or tfjs (autodiff on --backend)',
    group: 'model',
    source: 'measured: about 5x faster than tfjs-wasm at n = 256 (bench grad)',
  },
  {
    flag: 'backend',
    key: 'backend',
    kind: 'choice',
    choices: ['auto', 'node', 'wasm', 'cpu'],
    default: 'auto',
    help: 'tensor backend (auto: tfjs-node if it loads, else wasm, else cpu)',
    group: 'model',
    source: 'project choice',
  },
  // environment
  {
    flag: 'env',
    key: 'env',
    kind: 'string',
    default: 'CartPole-v1',
    help: 'environment id: CartPole-v1, Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0, Pendulum-v1 (Gymnasium dynamics), seq-reverse, seq-sort, seq-add (sequence tasks) or one of --env-module',
    group: 'environment',
    source: 'project choice',
  },
  {
    flag: 'env-module',
    key: 'envModule',
    kind: 'string',
    default: null,
    help: 'your environment module (a .mjs/.js file exporting `envs`, README "Your own environment"), loaded in every process and thread',
    group: 'environment',
    source: 'none',
  },
  {
    flag: 'env-timeout',
    key: 'envTimeoutSec',
    kind: 'number',
    default: DEFAULT_ENV_TIMEOUT_SEC,
    range: { ok: (x) => x > 0 && x <= 86_400, text: 'in (0, 86400]' },
    help: "seconds an environment's import, create(), reset() or step() may run before its worker thread is stopped with a message naming the env, the call and the time (envs/watchdog.ts)",
    group: 'environment',
    source:
      "project choice: far above any built-in call (a CartPole step takes about a microsecond) and half the launcher's 120 s stop bound, so a hung final evaluation still ends in a summary",
  },
  {
    flag: 'seed',
    key: 'seed',
    kind: 'integer',
    default: 1,
    range: nonNeg,
    help: 'master seed (env resets, sampling, init, minibatch order)',
    group: 'environment',
    source: CLEANRL,
  },
  {
    flag: 'seq-vocab',
    key: 'seqVocab',
    kind: 'integer',
    default: SEQ_DEFAULTS.vocab,
    range: { ok: (x) => x >= 2, text: '>= 2' },
    help: 'sequence tasks: vocabulary V (digits 0..V-1)',
    group: 'environment',
    source: 'project choice: decimal digits',
  },
  {
    flag: 'seq-length',
    key: 'seqLength',
    kind: 'integer',
    default: SEQ_DEFAULTS.length,
    range: atLeast1,
    help: 'sequence tasks: prompt and response length L (seq-add: even)',
    group: 'environment',
    source: 'project choice: thousands of responses a second per thread',
  },
  // actors and lag
  {
    flag: 'actors',
    key: 'actors',
    kind: 'integer',
    default: 2,
    range: atLeast1,
    help: 'actor processes, N',
    group: 'actors and lag',
    source: 'project choice (2 cores)',
  },
  {
    flag: 'workers',
    key: 'workers',
    kind: 'integer',
    default: 1,
    range: atLeast1,
    help: 'worker threads per actor, W',
    group: 'actors and lag',
    source: 'project choice',
  },
  {
    flag: 'envs-per-worker',
    key: 'envsPerWorker',
    kind: 'integer',
    default: 4,
    range: atLeast1,
    help: 'environments per worker thread, E',
    group: 'actors and lag',
    source: `${CLEANRL} num_envs`,
  },
  {
    flag: 'segment-steps',
    key: 'segmentSteps',
    kind: 'integer',
    default: 32,
    range: atLeast1,
    help: 'steps per environment per rollout, T',
    group: 'actors and lag',
    source: `${ZOO} n_steps`,
  },
  {
    flag: 'batch-segments',
    key: 'batchSegments',
    kind: 'integer',
    default: 2,
    derived: 'actors x workers',
    range: atLeast1,
    help: 'rollouts per update, B',
    group: 'actors and lag',
    source: 'one rollout per worker slot',
  },
  {
    flag: 'lag',
    key: 'lag',
    kind: 'lag',
    default: { kind: 'none' },
    help: 'lag injection: none | fixed:K | uniform:K1-K2 | geometric:MEAN',
    group: 'actors and lag',
    source: 'no injected lag',
  },
  {
    flag: 'actor-delay-ms',
    key: 'actorDelayMs',
    kind: 'number',
    default: 0,
    range: nonNeg,
    help: 'delay each rollout in the actor, ms (stress tests)',
    group: 'actors and lag',
    source: 'no delay',
  },
  {
    flag: 'learner-delay-ms',
    key: 'learnerDelayMs',
    kind: 'number',
    default: 0,
    range: nonNeg,
    help: 'delay each learner update before its acks, ms (stress tests: a slower learner)',
    group: 'actors and lag',
    source: 'no delay',
  },
  {
    flag: 'max-inflight',
    key: 'maxInFlight',
    kind: 'integer',
    default: 1,
    derived: 'max(1, ceil(batch-segments / (actors x workers))): fewer could never fill a batch; deterministic: that exactly',
    range: atLeast1,
    help: 'unacknowledged rollouts per worker (1: no natural lag)',
    group: 'actors and lag',
    source: 'measured: natural lag 0 (README, asynchronous mode)',
  },
  {
    flag: 'history-versions',
    key: 'historyVersions',
    kind: 'integer',
    default: 128,
    range: atLeast1,
    help: 'parameter versions kept for lag injection (>= max lag + 2)',
    group: 'actors and lag',
    source: "project choice: the sweep's largest lag 64, twice",
  },
  {
    flag: 'heartbeat-ms',
    key: 'heartbeatMs',
    kind: 'integer',
    default: 1000,
    range: { ok: (x) => x >= 10 && x <= 60_000, text: 'in [10, 60000]' },
    help: 'actor heartbeat interval, ms; the learner drops an actor silent for 5 intervals',
    group: 'actors and lag',
    source: 'project choice: a dead actor frees its id within 5 s',
  },
  {
    flag: 'group-size',
    key: 'groupSize',
    kind: 'integer',
    default: 1,
    range: atLeast1,
    help: 'consecutive envs of a worker sharing a prompt (group advantages); divides --envs-per-worker',
    group: 'actors and lag',
    source: 'independent envs',
  },
  {
    flag: 'behaviour',
    key: 'behaviour',
    kind: 'behaviour',
    default: 'stale',
    help: 'who writes responses: stale (the policy, with --lag) | teacher | mix:P (share P of each group from the teacher)',
    group: 'actors and lag',
    source: "today's lag injection",
  },
  {
    flag: 'teacher-eps',
    key: 'teacherEps',
    kind: 'number',
    default: 0.1,
    range: unit,
    help: 'teacher noise: a uniform token with this probability, else the right one',
    group: 'actors and lag',
    source: 'issue 15: a noisy oracle, eps 0.1',
  },
  // learner and optimiser
  {
    flag: 'advantage',
    key: 'advantage',
    kind: 'choice',
    choices: ['vtrace', 'gae', 'group', 'reward'],
    default: 'vtrace',
    derived: 'vtrace; group for seq-* tasks',
    help: 'advantage estimator (group: (R - group mean) / (group std + 1e-6) on every token; reward: A = R, no baseline, not normalised)',
    group: 'learner and optimiser',
    source: 'docs/METHODS.md section 4: corrects targets for lag',
  },
  {
    flag: 'ratio',
    key: 'ratio',
    kind: 'choice',
    choices: ['token', 'sequence'],
    default: 'token',
    help: 'importance ratio per token, or per response (geometric mean of its token ratios, as GSPO)',
    group: 'learner and optimiser',
    source: 'per-token ratios as PPO',
  },
  {
    flag: 'normalize-advantages',
    key: 'normalizeAdvantages',
    kind: 'boolean',
    default: true,
    help: 'normalise advantages per batch (--no-normalize-advantages)',
    group: 'learner and optimiser',
    source: `${CLEANRL} norm_adv`,
  },
  {
    flag: 'discount',
    key: 'discount',
    kind: 'number',
    default: 0.99,
    range: { ok: (x) => x > 0 && x <= 1, text: 'in (0, 1]' },
    help: 'discount gamma',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'lambda',
    key: 'lambda',
    kind: 'number',
    default: 0.95,
    range: unit,
    help: 'GAE / V-trace lambda',
    group: 'learner and optimiser',
    source: `${CLEANRL} gae_lambda`,
  },
  {
    flag: 'lr',
    key: 'lr',
    kind: 'number',
    default: 2.5e-4,
    range: pos,
    help: 'Adam learning rate',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'anneal-lr',
    key: 'annealLr',
    kind: 'boolean',
    default: true,
    help: 'decay the learning rate linearly over --steps, floored at 2%',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'adam-eps',
    key: 'adamEps',
    kind: 'number',
    default: 1e-5,
    range: pos,
    help: 'Adam epsilon',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'epochs',
    key: 'epochs',
    kind: 'integer',
    default: 4,
    range: atLeast1,
    help: 'passes over each batch',
    group: 'learner and optimiser',
    source: `${CLEANRL} update_epochs`,
  },
  {
    flag: 'minibatches',
    key: 'minibatches',
    kind: 'integer',
    default: 4,
    range: atLeast1,
    help: 'minibatches per epoch',
    group: 'learner and optimiser',
    source: `${CLEANRL} num_minibatches`,
  },
  {
    flag: 'ent-coef',
    key: 'entCoef',
    kind: 'number',
    default: 0.01,
    range: nonNeg,
    help: 'entropy bonus',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'vf-coef',
    key: 'vfCoef',
    kind: 'number',
    default: 0.5,
    range: nonNeg,
    help: 'value loss coefficient',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'max-grad-norm',
    key: 'maxGradNorm',
    kind: 'number',
    default: 0.5,
    range: pos,
    help: 'global gradient-norm clip',
    group: 'learner and optimiser',
    source: CLEANRL,
  },
  {
    flag: 'learner-threads',
    key: 'learnerThreads',
    kind: 'integer',
    default: 1,
    range: { ok: (x) => x >= 1 && x <= 64, text: 'in [1, 64]' },
    help: 'threads computing each minibatch gradient (1: in the learner thread, which also computes one shard when > 1; > 1 needs --grad js)',
    group: 'learner and optimiser',
    source: 'one thread: the 2-core default (bench scaling)',
  },
  {
    flag: 'learner-parallel',
    key: 'learnerParallel',
    kind: 'choice',
    choices: ['exact', 'data'],
    default: 'exact',
    help: 'with --learner-threads L > 1: exact (each minibatch split into L shards: the same update for any L) or data (each thread its own minibatch of the configured size, gradients averaged into one step: the effective batch is L x the minibatch, so an epoch takes ceil(minibatches / L) steps)',
    group: 'learner and optimiser',
    source: 'exact: the update does not depend on the thread count',
  },
  {
    flag: 'trainer-thread',
    key: 'trainerThread',
    kind: 'boolean',
    default: true,
    help: 'run the updates on a thread of their own (with --grad js), so that receiving, decoding and verifying the next rollouts overlap the update (--no-trainer-thread: in the learner main thread)',
    group: 'learner and optimiser',
    source: 'measured: end-to-end steps/s with and without (README, Scaling, measured)',
  },
  {
    flag: 'max-lag',
    key: 'maxLag',
    kind: 'integer',
    default: -1,
    range: { ok: (x) => x >= -1, text: '>= 0, or -1 for no limit' },
    help: 'drop rollouts older than this many versions (-1: no limit)',
    group: 'learner and optimiser',
    source: 'no limit',
  },
  {
    flag: 'queue-capacity',
    key: 'queueCapacity',
    kind: 'integer',
    default: 8,
    derived: 'max(4 x batch-segments, actors x workers x max-inflight)',
    range: atLeast1,
    help: 'intake queue capacity in rollouts',
    group: 'learner and optimiser',
    source: 'four updates of rollouts',
  },
  // evaluation
  {
    flag: 'eval-every',
    key: 'evalEvery',
    kind: 'integer',
    default: 10,
    range: nonNeg,
    help: 'evaluate the current policy every N updates (0: never)',
    group: 'evaluation',
    source: 'project choice',
  },
  {
    flag: 'eval-episodes',
    key: 'evalEpisodes',
    kind: 'integer',
    default: 10,
    range: atLeast1,
    help: 'episodes per evaluation',
    group: 'evaluation',
    source: 'project choice',
  },
  {
    flag: 'eval-share',
    key: 'evalShare',
    kind: 'number',
    default: 0.25,
    range: nonNeg,
    help: 'evaluations while training use at most this share of the training steps: each periodic one gets min(eval-episodes, what the share leaves / the latest mean episode length) episodes, and waits for an update that affords one; target confirmations run in full outside it, the next after a failed one waiting until the training steps have doubled; the random baseline and the final evaluation are outside (0: no cap)',
    group: 'evaluation',
    source: 'project choice: one evaluation step per four training steps at most (a 200k-step run had used 848k)',
  },
  {
    flag: 'final-eval-episodes',
    key: 'finalEvalEpisodes',
    kind: 'integer',
    default: 100,
    range: atLeast1,
    help: 'episodes of the final evaluation',
    group: 'evaluation',
    source: 'Gymnasium CartPole-v1: solved = mean 475 over 100 episodes',
  },
  {
    flag: 'collapse-entropy',
    key: 'collapseEntropy',
    kind: 'number',
    default: 0.05,
    range: nonNeg,
    help: 'entropy (nats) below which a policy worse than random is flagged collapsed',
    group: 'evaluation',
    source: 'measured: collapsed v5 const runs ended at 0.048 (README)',
  },
  // stopping
  {
    flag: 'steps',
    key: 'steps',
    kind: 'integer',
    default: 100_000,
    range: atLeast1,
    help: 'environment-step budget',
    group: 'stopping',
    source: `${ZOO} n_timesteps`,
  },
  {
    flag: 'time',
    key: 'timeSec',
    kind: 'number',
    default: 0,
    range: nonNeg,
    help: 'wall-time budget in seconds (0: none)',
    group: 'stopping',
    source: 'no limit',
  },
  {
    flag: 'target-return',
    key: 'targetReturn',
    kind: 'number-or-null',
    default: null,
    help: 'stop when an evaluation of the current policy reaches this mean return',
    group: 'stopping',
    source: 'never',
  },
  // run
  {
    flag: 'deterministic',
    key: 'deterministic',
    kind: 'boolean',
    default: false,
    help: 'fixed schedule of versions and training order: the run is a function of config and seed',
    group: 'run',
    source: 'asynchronous by default',
  },
  {
    flag: 'checkpoint-every',
    key: 'checkpointEvery',
    kind: 'integer',
    default: 0,
    range: nonNeg,
    help: 'learner checkpoint every N updates too (0: by time only, --checkpoint-seconds); always at the end and on SIGINT/SIGTERM',
    group: 'run',
    source: 'by time: an update takes 5 ms to 0.35 s depending on the settings',
  },
  {
    flag: 'checkpoint-seconds',
    key: 'checkpointSeconds',
    kind: 'number',
    default: 30,
    range: nonNeg,
    help: 'learner checkpoint every S seconds of training (0: not by time), or every --checkpoint-every updates, whichever comes first; always at the end and on SIGINT/SIGTERM',
    group: 'run',
    source:
      'Sample Factory saves by time (save_every_sec 120); 30 s bounds what a crash loses, and a write (0.2 MB, median 8 ms) costs < 0.1% of it',
  },
  {
    flag: 'keep-checkpoints',
    key: 'keepCheckpoints',
    kind: 'integer',
    default: 3,
    range: atLeast1,
    help: 'checkpoints kept in <run-dir>/checkpoints/',
    group: 'run',
    source: 'project choice: survives two corrupt files',
  },
  {
    flag: 'log-max-mb',
    key: 'logMaxMb',
    kind: 'number',
    default: 256,
    range: nonNeg,
    help: 'rotate learner.ndjson before it exceeds this many MiB; rotated segments are gzipped to learner.<k>.ndjson.gz (0: never)',
    group: 'run',
    source: 'project choice: ~45 min of the ~340 MB an hour issue 11 reports for learner.ndjson',
  },
  {
    flag: 'restart-actors',
    key: 'restartActors',
    kind: 'boolean',
    default: true,
    help: 'train: restart an actor process that dies (--no-restart-actors: stop the run instead)',
    group: 'run',
    source: 'project choice',
  },
  {
    flag: 'preset',
    key: 'preset',
    kind: 'choice',
    choices: Object.keys(PRESETS),
    default: null,
    help: 'start from a preset (deploy/presets.ts); flags and file keys override it',
    group: 'run',
    source: 'none',
  },
  {
    flag: 'run-dir',
    key: 'runDir',
    kind: 'string',
    default: null,
    derived: 'runs/<run-id>',
    help: 'run directory (must not exist)',
    group: 'run',
    source: 'runs/<run-id>',
  },
  {
    flag: 'run-id',
    key: 'runId',
    kind: 'string',
    default: null,
    derived: '<env>_<label>_<lag>_s<seed>_<time>',
    help: 'run id',
    group: 'run',
    source: 'env, method, lag, seed, start time',
  },
];

/** Rows by long flag name. */
export const FIELD_BY_FLAG: ReadonlyMap<string, FieldRow> = new Map(FIELDS.map((r) => [r.flag, r]));
/** Rows by config key ('lr', 'objective.eps'). */
export const FIELD_BY_KEY: ReadonlyMap<string, FieldRow> = new Map(FIELDS.map((r) => [r.key, r]));
/** The objective group's rows (what `weights` takes). */
export const OBJECTIVE_FIELDS: readonly FieldRow[] = FIELDS.filter((r) => r.group === 'objective');

/** Where a value came from, for error messages: the command line, or a config file. */
export type Origin = { file?: string };

function where(o: Origin): string {
  return o.file ? ` (in ${o.file})` : '';
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `'${v.join(',')}'` : (JSON.stringify(v) ?? String(v));
}

/** The accepted values of a row, as error messages state them. */
export function expectedOf(r: FieldRow): string {
  switch (r.kind) {
    case 'choice':
      return `one of ${r.choices!.join(', ')}`;
    case 'boolean':
      return 'true or false';
    case 'int-list':
      return 'comma-separated positive integers, e.g. 64,64';
    case 'lag':
      return 'none, fixed:K, uniform:K1-K2 or geometric:MEAN (K integers >= 0, K1 <= K2, MEAN > 0)';
    case 'string':
      return 'a string';
    case 'behaviour':
      return 'stale, teacher or mix:P (P in [0, 1])';
    case 'number-or-null':
      return 'a finite number, or none';
    case 'integer':
      return `an integer ${r.range?.text ?? ''}`.trim();
    case 'number':
      return `a finite number ${r.range?.text ?? ''}`.trim();
  }
}

function bad(r: FieldRow, v: unknown, o: Origin): UsageError {
  return new UsageError(`--${r.flag}: ${show(v)}${where(o)} is not accepted; expected ${expectedOf(r)}`);
}

/**
 * Turn a raw value (from yargs or a config file) into the row's typed value, checking type and
 * range; throws a UsageError naming the flag, the value, the file if any, and what is accepted.
 */
export function parseField(r: FieldRow, raw: unknown, o: Origin = {}): unknown {
  if (Array.isArray(raw) && r.kind !== 'int-list')
    throw new UsageError(`--${r.flag}: given ${raw.length} times (${raw.join(', ')})${where(o)}; give it once`);
  switch (r.kind) {
    case 'number':
    case 'integer':
    case 'number-or-null': {
      if (r.kind === 'number-or-null' && (raw === null || raw === 'none')) return null;
      const x = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(x) || (r.kind === 'integer' && !Number.isInteger(x)) || (r.range && !r.range.ok(x))) throw bad(r, raw, o);
      return x;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw bad(r, raw, o);
    case 'choice':
      if (typeof raw !== 'string' || !(r.choices!.includes(raw) || (r.accepts?.(raw) ?? false))) throw bad(r, raw, o);
      return raw;
    case 'behaviour':
      if (typeof raw !== 'string' || teacherShareOf(raw.trim()) === null) throw bad(r, raw, o);
      return raw.trim();
    case 'string':
      if (typeof raw !== 'string' || raw.trim() === '') throw bad(r, raw, o);
      return raw;
    case 'lag': {
      const spec = lagSpecFrom(raw);
      if (!spec) throw bad(r, raw, o);
      return spec;
    }
    case 'int-list': {
      const parts = Array.isArray(raw)
        ? raw
        : typeof raw === 'string'
          ? raw.split(',').map((s) => s.trim())
          : typeof raw === 'number'
            ? [raw]
            : null;
      const xs = parts?.map((p) => (typeof p === 'number' ? p : typeof p === 'string' && p !== '' ? Number(p) : NaN));
      if (!xs || xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw bad(r, raw, o);
      return xs;
    }
  }
}

/** The value of `key` ('lr' or 'objective.eps') in a config-shaped object. */
export function getKey(obj: object, key: string): unknown {
  const rec = obj as Record<string, unknown>;
  if (key.startsWith('objective.')) return (rec.objective as Record<string, unknown> | undefined)?.[key.slice(10)];
  return rec[key];
}

/** Set `key` in a config-shaped object (creating `objective` if needed). */
export function setKey(obj: object, key: string, value: unknown): void {
  const rec = obj as Record<string, unknown>;
  if (key.startsWith('objective.')) {
    rec.objective ??= {};
    (rec.objective as Record<string, unknown>)[key.slice(10)] = value;
  } else rec[key] = value;
}

/** A typed value as a flag or config file spells it: the inverse of `parseField`. */
export function formatField(r: FieldRow, v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (r.kind === 'lag') return formatLag(v as LagSpec);
  if (r.kind === 'int-list') return (v as number[]).join(',');
  return String(v);
}

/** The default column of the README and --help: the derived rule, or the value. */
export function defaultText(r: FieldRow): string {
  return r.derived ?? formatField(r, r.default);
}

/** The README's flag table, generated from FIELDS (`node dist/deploy/flagTable.js`). */
export function flagTableMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| group | flag | default | accepted | meaning | default from |', '|---|---|---|---|---|---|'];
  for (const r of FIELDS) {
    lines.push(`| ${r.group} | \`--${r.flag}\` | ${esc(defaultText(r))} | ${esc(expectedOf(r))} | ${esc(r.help)} | ${esc(r.source)} |`);
  }
  return lines.join('\n') + '\n';
}
