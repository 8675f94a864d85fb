/**
 * The resolved configuration of a run: `RunConfig`, the intersection of the group interfaces
 * owned by the modules that use them (objective: protocol/objectiveConfig.ts; optimiser,
 * intake, evaluation, stopping: learner/config.ts; environment, model, actors and lag:
 * model/config.ts, envs/config.ts, protocol/actorsConfig.ts). Flags, defaults, ranges and help are in deploy/schema.ts (`FIELDS`); this
 * module builds the defaults from it, computes derived values once (`resolveDerived`) and holds
 * the one validator every command uses (`validateConfig`, `validateObjective`).
 */
import { type ObjectiveConfig } from '../protocol/objectiveConfig.js';
import path from 'node:path';
import { UsageError } from './errors.js';
import { formatLag, maxLagOf } from '../protocol/lag.js';
import type { AdvantageKind, LearnerServerConfig } from '../learner/config.js';
import { defaultQueueCapacity, segmentsPerSlot, slotsOf, type ActorsConfig } from '../protocol/actorsConfig.js';
import { teacherShareOf, type SeqEnvConfig } from '../envs/config.js';
import { isSeqEnv, parseSeqEnvId, seqEnvId, seqSettingsProblem } from '../envs/seq.js';
import { envIds } from '../envs/registry.js';
import { FIELDS, getKey, OBJECTIVE_FIELDS, parseField, setKey } from './schema.js';
import { MAX_ROLLOUT_STEPS } from '../protocol/codec.js';

/** Smallest --heartbeat-ms that works: 5 missed intervals = 0.5 s of silence, above a GC pause or a blocked log write. */
export const MIN_HEARTBEAT_MS = 100;

export type { AdvantageKind };

export interface RunConfig extends Omit<LearnerServerConfig, 'groupSize'>, ActorsConfig, SeqEnvConfig {
  /** Where logs, config and summary go (absolute). */
  runDir: string;
  /** Human label of the correction, e.g. 'v5 floor=neg-is'; used to group runs in reports. */
  label: string;
  /** Tensor backend: 'auto' | 'node' | 'wasm' | 'cpu'. */
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
  /** Name of the preset this config started from, or null. */
  preset: string | null;
  /** `train` restarts an actor process that dies (deploy/launcher.ts). */
  restartActors: boolean;
  /** The learner rotates learner.ndjson before it exceeds this many MiB (deploy/rotatingLog.ts); 0 = never. */
  logMaxMb: number;
}

/** Config keys that name the run rather than configure it: set by `buildConfig`, not defaulted. */
const RUN_KEYS = new Set(['runDir', 'runId']);

function defaultsFromTable(): Omit<RunConfig, 'runId' | 'runDir' | 'label'> {
  const out = {} as Record<string, unknown>;
  for (const r of FIELDS) if (!RUN_KEYS.has(r.key)) setKey(out, r.key, structuredClone(r.default));
  return out as unknown as Omit<RunConfig, 'runId' | 'runDir' | 'label'>;
}

/** Every default, from the field table (deploy/schema.ts). Derived fields hold their value for the defaults. */
export const DEFAULT_CONFIG: Readonly<Omit<RunConfig, 'runId' | 'runDir' | 'label'>> = freezeConfig(defaultsFromTable());

/** A short label for grouping runs: the method plus the options that differ from defaults. */
export function objectiveLabel(o: ObjectiveConfig): string {
  const parts: string[] = [o.method];
  if (o.method === 'v5' || o.method === 'v5-fixed') {
    if (o.floor !== 'const') parts.push(`floor=${o.floor}`);
    if (o.trust !== 'linear') parts.push(`trust=${o.trust}`);
    if (o.sftTrust) parts.push('sft-trust');
  }
  return parts.join(' ');
}

/** The default run id: `<env>_<label>_<lag>_s<seed>_<UTC time>`. */
export function defaultRunId(c: Pick<RunConfig, 'env' | 'label' | 'lag' | 'seed'>, now = new Date()): string {
  const lagTag = formatLag(c.lag).replace(':', '');
  return `${c.env}_${c.label.replace(/[ =]/g, '-')}_${lagTag}_s${c.seed}_${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
}

/**
 * Fill the derived fields not given explicitly (by config key), in one place: the advantage
 * follows --method vtrace, batch-segments is one per worker slot, every slot may keep at least
 * batch-segments / slots rollouts in flight (exactly that in deterministic runs), the queue
 * holds four updates.
 */
export function resolveDerived(cfg: RunConfig, explicit: ReadonlySet<string>): void {
  // Stored absolute, so eval, --resume, export and sweeps find it from any working directory.
  if (typeof cfg.envModule === 'string' && cfg.envModule !== '') cfg.envModule = path.resolve(cfg.envModule);
  if (cfg.objective.method === 'vtrace' && !explicit.has('advantage')) cfg.advantage = 'vtrace';
  const seq = parseSeqEnvId(cfg.env);
  if (seq !== null) {
    // The settings live in the env id (and so in the model hash): seq-reverse-v12-l6.
    if (seqSettingsProblem(seq.task, { vocab: cfg.seqVocab, length: cfg.seqLength }) === null)
      cfg.env = seqEnvId(seq.task, { vocab: cfg.seqVocab, length: cfg.seqLength });
    if (!explicit.has('advantage')) cfg.advantage = 'group';
  }
  if (!explicit.has('batchSegments')) cfg.batchSegments = slotsOf(cfg);
  // The learner acknowledges a rollout when it trains it: a batch of batch-segments rollouts
  // needs that many unacknowledged at once, or the learner waits forever (e.g. --actors 1 with
  // the cartpole preset's 2 segments per update).
  if (!explicit.has('maxInFlight')) {
    const least = Math.ceil(segmentsPerSlot(cfg));
    cfg.maxInFlight = cfg.deterministic ? Math.max(1, least) : Math.max(cfg.maxInFlight, least);
  }
  if (!explicit.has('queueCapacity')) cfg.queueCapacity = defaultQueueCapacity(cfg);
}

/** Check every objective field against its row, then gamma-base <= gamma-max. */
export function validateObjective(o: ObjectiveConfig): void {
  for (const r of OBJECTIVE_FIELDS) parseField(r, getKey({ objective: o }, r.key));
  if (o.gammaBase > o.gammaMax) throw new UsageError(`--gamma-base: ${o.gammaBase} must not exceed --gamma-max ${o.gammaMax}`);
}

/** Throw a UsageError naming --env unless `env` is registered (built-in, sequence task, or from --env-module). */
export function checkEnvId(env: string, envModule: string | null = null): void {
  if (envIds().includes(env) || isSeqEnv(env)) return;
  throw new UsageError(
    `--env: '${env}' is not a known environment; known: ${envIds().join(', ')}${envModule ? ` (with --env-module ${envModule})` : '; load your own with --env-module FILE'}`,
  );
}

/** Check every field once against its row, then the rules that tie fields together; throws a UsageError naming the flag. */
export function validateConfig(c: RunConfig): void {
  for (const r of FIELDS) {
    const v = getKey(c, r.key);
    if (v === null && r.default === null && r.derived === undefined) continue; // an optional setting not given
    parseField(r, v);
  }
  checkEnvId(c.env, c.envModule);
  validateObjective(c.objective);
  const maxK = maxLagOf(c.lag);
  if (maxK + 2 > c.historyVersions) {
    throw new UsageError(
      `--lag ${formatLag(c.lag)} needs up to ${maxK} versions of history but --history-versions is ${c.historyVersions}; raise --history-versions to at least ${maxK + 2}`,
    );
  }
  if (c.learnerParallel === 'data' && (c.learnerThreads ?? 1) > c.minibatches) {
    throw new UsageError(
      `--learner-parallel data: each of the ${c.learnerThreads} learner threads takes its own minibatch, but there are only --minibatches ${c.minibatches} per epoch; use at most ${c.minibatches} threads or more minibatches`,
    );
  }
  if ((c.learnerThreads ?? 1) > 1 && c.grad !== 'js') {
    throw new UsageError(
      `--learner-threads: ${c.learnerThreads} threads need --grad js (the tfjs path runs in the learner thread); use --learner-threads 1 or --grad js`,
    );
  }
  // What the wire can carry: the codec refuses a rollout of more than MAX_ROLLOUT_STEPS steps.
  if (c.segmentSteps * c.envsPerWorker > MAX_ROLLOUT_STEPS) {
    throw new UsageError(
      `--segment-steps: ${c.segmentSteps} x --envs-per-worker ${c.envsPerWorker} = ${c.segmentSteps * c.envsPerWorker} steps per rollout, the protocol carries at most ${MAX_ROLLOUT_STEPS} (2^20); lower --segment-steps or --envs-per-worker`,
    );
  }
  if (c.heartbeatMs < MIN_HEARTBEAT_MS) {
    throw new UsageError(
      `--heartbeat-ms: ${c.heartbeatMs} is too small to work: the learner drops an actor silent for 5 intervals, and a garbage collection or a slow log write on either side can take longer than ${5 * c.heartbeatMs} ms; use at least ${MIN_HEARTBEAT_MS}`,
    );
  }
  const samples = c.batchSegments * c.segmentSteps * c.envsPerWorker;
  if (c.minibatches > samples) {
    throw new UsageError(
      `--minibatches: ${c.minibatches} exceeds the ${samples} samples per update (batch-segments x segment-steps x envs-per-worker)`,
    );
  }
  validateSequence(c);
  // (--deterministic actors keep exactly their share of each batch in flight, whatever this says.)
  if (!c.deterministic && slotsOf(c) * c.maxInFlight < c.batchSegments) {
    throw new UsageError(
      `--max-inflight: ${c.maxInFlight} rollouts per worker x ${slotsOf(c)} worker slots (actors x workers) = ${slotsOf(c) * c.maxInFlight} unacknowledged rollouts at most, but an update needs --batch-segments ${c.batchSegments} of them before it acknowledges any: the run would wait forever; use --max-inflight ${Math.ceil(segmentsPerSlot(c))} or more, more actors or workers, or fewer --batch-segments`,
    );
  }
  if (c.deterministic && c.batchSegments % slotsOf(c) !== 0) {
    throw new UsageError(
      `--batch-segments: ${c.batchSegments} must be a multiple of actors x workers (${slotsOf(c)}) with --deterministic, so that every worker contributes the same number of segments to each update`,
    );
  }
}

/** The rules of the sequence settings, groups, teacher and per-response ratios. */
function validateSequence(c: RunConfig): void {
  const seq = parseSeqEnvId(c.env);
  if (seq !== null) {
    const problem = seqSettingsProblem(seq.task, { vocab: c.seqVocab, length: c.seqLength });
    if (problem !== null) throw new UsageError(`--seq-length: ${problem}`);
  }
  if (c.envsPerWorker % c.groupSize !== 0) {
    throw new UsageError(
      `--group-size: ${c.groupSize} must divide --envs-per-worker ${c.envsPerWorker} (a group is K consecutive envs of one worker)`,
    );
  }
  const share = teacherShareOf(c.behaviour);
  if (share !== null && share > 0 && seq === null) {
    throw new UsageError(
      `--behaviour: '${c.behaviour}' needs a teacher, which only the sequence tasks have (--env ${['seq-reverse', 'seq-sort', 'seq-add'].join(' | ')})`,
    );
  }
  const needsWhole = c.advantage === 'group' || c.advantage === 'reward' || c.ratio === 'sequence';
  const what = c.ratio === 'sequence' ? 'ratio sequence' : `advantage ${c.advantage}`;
  if (needsWhole && seq === null) {
    throw new UsageError(`--${what}: needs a sequence task (--env seq-reverse | seq-sort | seq-add), whose episodes are responses`);
  }
  if (needsWhole && seq !== null && c.segmentSteps !== c.seqLength) {
    throw new UsageError(
      `--segment-steps: ${c.segmentSteps} must equal --seq-length ${c.seqLength} with --${what}, so that every segment holds whole responses (--preset seq does this)`,
    );
  }
}

/**
 * The one start-up line for a run that uses the draft's constant floor (v5 / v5-fixed with
 * --floor const), or null. The wording lives here only.
 */
export function constFloorNotice(o: ObjectiveConfig): string | null {
  if ((o.method !== 'v5' && o.method !== 'v5-fixed') || o.floor !== 'const') return null;
  return `note: ${o.method} with --floor const (the draft's constant floor) collapsed in 14 of 30 IMPALA-style CartPole runs at lags 0, 16 and 64, --floor neg-is in none (10 seeds per lag, docs/FINDINGS.md). Add --floor neg-is unless you are reproducing the draft.`;
}

/**
 * The start-up line for a `train` whose learner threads and actor threads together outnumber
 * the cores, or null. The learner threads synchronise several times a minibatch: when the
 * actors hold the cores, each wake-up waits for one. Measured: on 2 cores, end-to-end at
 * --learner-threads 2 was 0.68 to 0.98 x --learner-threads 1 (12 pairs of cells, four
 * scaling-bench runs of session 8; README, Scaling, measured).
 */
export function coresNotice(c: Pick<RunConfig, 'learnerThreads' | 'actors' | 'workers'>, cores: number): string | null {
  const L = c.learnerThreads ?? 1;
  const busy = L + c.actors * c.workers;
  if (L < 2 || busy <= cores) return null;
  return `note: ${L} learner threads and ${c.actors} x ${c.workers} actor threads share ${cores} cores; the learner threads synchronise several times a minibatch and wait for a core each time (on 2 cores, --learner-threads 2 measured 0.68-0.98x the end-to-end steps/s of 1: README, Scaling, measured). Use fewer learner threads, or give the learner cores of its own.`;
}

/** Deep-freeze a config so that no component can change it after validation. */
export function freezeConfig<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) freezeConfig(v);
    Object.freeze(x);
  }
  return x;
}
