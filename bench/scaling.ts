/**
 * `npm run bench -- scaling [--max-threads N] [--json]`: how throughput grows with threads, at
 * IMPALA-style settings (CartPole-v1, hidden [64,64], segments of T=32 x E=4, 4 segments =
 * 512 samples per update, one pass of 4 minibatches of 128):
 * - actor-only env steps/s against actor threads 1..N (piscina, real collect task);
 * - a pure compute loop on 1 and N threads (bench/computeCeiling.ts): what the machine gives;
 * - learner-only samples/s against --learner-threads 1..N (no actor running), with the
 *   learner's per-update time split, at [64,64] and [256,256], and at [64,64] with
 *   --learner-parallel data;
 * - end-to-end steps/s of real `train` child runs over a grid of (actor processes x workers,
 *   learner threads), steady state from the update records, with their time split; each
 *   worker slot may have two batches in flight (--max-inflight 8), so that collecting and
 *   training overlap;
 * - protocol over raw ZeroMQ message rate at 4 KB and 248 KB;
 * - pipelineEfficiency: end-to-end 1 actor x 1 worker at L = 1 over min(learner-only at L = 1,
 *   actor-only at 1 thread), target >= 0.7;
 * - where the end-to-end runs' CPU goes: CPU per env step by thread role (bench/threadCpu.ts),
 *   and the ceiling it sets, cores x 1e6 / total steps/s, however well the threads overlap;
 * - many actors (bench/manyActors.ts): A = 1, 16, 64, 256 simulated actors against a real
 *   learner: updates/s, rollouts/s, parameter bytes/s and per rollout, learner RSS.
 * Each rate is printed with its ratio to one thread and to linear scaling; RSS at start and end.
 * `--json` prints only the JSON summary (the full figures go to bench/results as always).
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initParams } from '../model/params.js';
import { forwardTrain, Workspace } from '../model/grad.js';
import type { ModelSpec } from '../model/spec.js';
import { buildConfig } from '../deploy/options.js';
import { parseBenchArgs } from '../deploy/commandFields.js';
import { meanTimeSplit } from '../analysis/tables.js';
import { num, renderText, type Table } from '../analysis/format.js';
import { TIME_SPLIT_KEYS, type UpdateTimeSplit } from '../protocol/records.js';
import { encode } from '../protocol/codec.js';
import { steadyStepsPerSecond, withTrainRun } from './trainChild.js';
import { Learner, type UpdateTimes } from '../learner/learner.js';
import { parallelOptimiser } from '../learner/threads.js';
import type { TrainingSegment } from '../learner/batch.js';
import type { LearnerConfig } from '../learner/config.js';
import { actorOnlyFps, CARTPOLE_SPEC, makeSegments } from './throughput.js';
import { protocolThroughput, rawThroughput, receiveSideThroughput, rolloutMessage } from './transport.js';
import { timed } from './results.js';
import { manyActorsPoint, type ManyActorsPoint } from './manyActors.js';
import { computeCeiling, type ComputeCeiling } from './computeCeiling.js';
import { CPU_ROLES, startThreadCpuSampler, type CpuPerStep, type ThreadCpuSampler } from './threadCpu.js';

const T = 32,
  E = 4,
  SEGMENTS = 4,
  EPOCHS = 1,
  MINIBATCHES = 4;
const IMPALA = {
  preset: 'cartpole',
  method: 'ppo',
  epochs: EPOCHS,
  minibatches: MINIBATCHES,
  'batch-segments': SEGMENTS,
  'run-id': 'bench',
};

export interface ScalingArgs {
  maxThreads: number;
  json: boolean;
  /** Only the learner-only curves, the [256, 256] row and the prediction (no actors, end-to-end or transport). */
  learnerOnly: boolean;
  /** Measuring time per point, ms. */
  ms: number;
  /** Env steps of each end-to-end run. */
  e2eSteps: number;
}

export function parseScalingArgs(argv: string[]): ScalingArgs {
  // The flags, their defaults and checks are the rows of 'bench scaling' in deploy/commandFields.ts.
  const v = parseBenchArgs('bench scaling', argv);
  return {
    maxThreads: v['max-threads'] as number,
    json: v.json as boolean,
    learnerOnly: v['learner-only'] as boolean,
    ms: v.ms as number,
    e2eSteps: v['e2e-steps'] as number,
  };
}

export interface LearnerPoint {
  threads: number;
  samplesPerSec: number;
  updates: number;
  timeMs: UpdateTimes;
}
export interface ActorPoint {
  threads: number;
  stepsPerSec: number;
}
export interface EndToEndPoint {
  actors: number;
  workers: number;
  learnerThreads: number;
  stepsPerSec: number;
  /** stepsPerSec / learner-only samples/s with the same learner threads. */
  efficiency: number;
  updates: number;
  timeMs: UpdateTimeSplit | null;
  /** CPU time per environment step over the same steady window, by thread role (bench/threadCpu.ts); null without /proc. */
  cpuUsPerStep: CpuPerStep | null;
}
/** A predicted speedup (Amdahl from the measured serial and parallel time per update), not a measurement. */
export interface PredictedPoint {
  threads: number;
  /** With the 2-thread run's overhead paid again for every extra thread (the pessimistic bound). */
  speedup: number;
  /** With that overhead paid once, whatever L (the optimistic bound: imbalance and memory effects that do not grow with L). */
  speedupIfOverheadConstant: number;
}
/** What the prediction is computed from, ms per update at [256, 256]. */
export interface PredictionBasis {
  /** Per-update time with 1 thread. */
  t1Ms: number;
  /**
   * Its parallel part: the forward pass over the batch's rows and the minibatch gradients, and
   * the optimiser (norm and Adam) where the threads share it (`optimiserShared`).
   */
  parallelMs: number;
  /** Its serial part: t1Ms - parallelMs (batch building, diagnostics; the optimiser where not shared). */
  serialMs: number;
  /** The threads share the optimiser's work at this model size (learner/threads.ts PARALLEL_OPT_MIN). */
  optimiserShared: boolean;
  /** Per-update time with 2 threads minus (serial + parallel / 2): synchronisation and imbalance, per extra thread (>= 0). */
  overheadPerThreadMs: number;
}
export interface ScalingResults {
  settings: string;
  machine: { cpus: number; node: string; loadAtStart: number[]; loadAtEnd: number[] };
  /** N threads of a pure compute loop over one (bench/computeCeiling.ts): what the machine itself gives the learner threads. */
  computeCeiling: ComputeCeiling;
  rssMB: { start: number; end: number };
  learnerOnly: LearnerPoint[];
  /** The same at [256, 256] (compute dominates). */
  learnerOnlyLarge: LearnerPoint[];
  /** [64, 64] with --learner-parallel data (each thread its own minibatch; effective batch L x the minibatch): what a user trading exact semantics for throughput gets. */
  learnerOnlyData: LearnerPoint[];
  /** Predicted learner-only speedups at [256, 256] for 4, 8 and 16 threads, and what they come from. */
  predicted: PredictedPoint[];
  predictionBasis: PredictionBasis;
  actorOnly: ActorPoint[];
  endToEnd: EndToEndPoint[];
  /** encode + send + receive + decode over send + receive of pre-encoded bytes, one thread (msg/s). */
  protocolOverRaw: { '4KB': number; '248KB': number };
  /** The learner's side alone: receive + decode over receive, both sent pre-encoded (msg/s). */
  receiveSideOverRaw: { '4KB': number; '248KB': number };
  bytes: { '4KB': number; '248KB': number };
  /** RSS after each part, MB. */
  rssAfterMB: Record<string, number>;
  /** End-to-end 1 x 1 at L = 1 over min(learner-only L = 1, actor-only 1 thread). */
  pipelineEfficiency: number;
  manyActors: ManyActorsPoint[];
}

/** The pipeline's efficiency: end-to-end 1 actor x 1 worker at L = 1 over its bottleneck alone. */
export function pipelineEfficiency(learnerOnly: LearnerPoint[], actorOnly: ActorPoint[], endToEnd: EndToEndPoint[]): number {
  const e2e = endToEnd.find((p) => p.actors === 1 && p.workers === 1 && p.learnerThreads === 1)?.stepsPerSec ?? NaN;
  const lo = learnerOnly.find((p) => p.threads === 1)?.samplesPerSec ?? NaN;
  const ao = actorOnly.find((p) => p.threads === 1)?.stepsPerSec ?? NaN;
  return e2e / Math.min(lo, ao);
}

/** Simulated actor counts of the many-actors part. */
export const MANY_ACTORS = [1, 2, 16, 64, 256];

/** The many-actors part: one point per count, each against its own learner process. */
async function manyActorsCurve(ms: number, say: (s: string) => void): Promise<ManyActorsPoint[]> {
  const pts: ManyActorsPoint[] = [];
  for (const a of MANY_ACTORS) {
    const p = await manyActorsPoint(a, ms);
    pts.push(p);
    say(
      `  many actors A=${a}: ${num(p.updatesPerSec)} updates/s, ${num(p.rolloutsPerSec)} rollouts/s, ${int(p.paramBytesPerSec)} param B/s (${int(p.paramBytesPerRollout)} per rollout; one message ${p.paramMessageBytes} B), learner RSS ${num(p.learnerRssMB, 1)} MB`,
    );
  }
  return pts;
}

const CPU_HEADERS: Record<(typeof CPU_ROLES)[number], string> = {
  learnerMain: 'learner main',
  trainer: 'trainer',
  actorMain: 'actor main',
  envWorker: 'env worker',
  zmqIo: 'ZeroMQ I/O',
  runtimeHelpers: 'runtime helpers',
  launcher: 'launcher',
};

/**
 * The end-to-end runs' CPU per env step by thread role, and what it means for the pipeline
 * target: with `cpus` cores the run can take at most cpus x 1e6 / total steps/s however well
 * its threads overlap (its ceiling), whatever is left of the efficiency target's denominator.
 */
export function cpuLines(r: Pick<ScalingResults, 'endToEnd' | 'learnerOnly' | 'actorOnly' | 'machine'>): string[] {
  const pts = r.endToEnd.filter((p) => p.cpuUsPerStep !== null);
  if (pts.length === 0) return ['End-to-end CPU per env step: not measured (no /proc)'];
  const cpus = r.machine.cpus;
  const lines = renderText({
    title: `End-to-end CPU per env step, us (user + system, from /proc, the same steady window; ${cpus} cores)`,
    headers: [
      'actors x workers',
      'learner threads',
      ...CPU_ROLES.map((k) => CPU_HEADERS[k]),
      'total',
      `ceiling on ${cpus} cores, steps/s`,
      'measured steps/s',
    ],
    rows: pts.map((p) => {
      const c = p.cpuUsPerStep!;
      return [
        `${p.actors} x ${p.workers}`,
        String(p.learnerThreads),
        ...CPU_ROLES.map((k) => num(c[k])),
        num(c.total),
        int((cpus * 1e6) / c.total),
        int(p.stepsPerSec),
      ];
    }),
    note: 'trainer / env worker: the busiest other thread of the learner / actor process; runtime helpers: every other thread (V8 garbage collector and compiler, libuv)',
  }).split('\n');
  const one = pts.find((p) => p.actors === 1 && p.workers === 1 && p.learnerThreads === 1);
  const lo = r.learnerOnly.find((p) => p.threads === 1)?.samplesPerSec ?? NaN;
  const ao = r.actorOnly.find((p) => p.threads === 1)?.stepsPerSec ?? NaN;
  if (one) {
    const den = Math.min(lo, ao);
    const ceiling = (cpus * 1e6) / one.cpuUsPerStep!.total;
    lines.push(
      `pipeline CPU ceiling, 1 x 1 at L = 1: ${cpus} cores x 1e6 / ${num(one.cpuUsPerStep!.total)} us = ${int(ceiling)} steps/s = ${num(ceiling / den)} of min(learner-only, actor-only) = ${int(den)}; efficiency 0.7 needs at most ${num((cpus * 1e6) / (0.7 * den))} us of CPU per step, spread evenly over the cores`,
    );
  }
  return lines;
}

/** Lines stating the pipeline and many-actors targets with their measured ratios. */
export function pipelineTargets(r: Pick<ScalingResults, 'pipelineEfficiency' | 'manyActors'>): string[] {
  const by = (a: number) => r.manyActors.find((p) => p.actors === a);
  const two = by(2),
    many = by(256);
  const lines = [`target pipelineEfficiency >= 0.7: ${num(r.pipelineEfficiency)} (${r.pipelineEfficiency >= 0.7 ? 'met' : 'not met'})`];
  if (two && many) {
    const u = many.updatesPerSec / two.updatesPerSec;
    lines.push(
      `target 256 actors updates/s >= 0.8 x 2 actors: ${num(many.updatesPerSec)} / ${num(two.updatesPerSec)} = ${num(u)} (${u >= 0.8 ? 'met' : 'not met'})`,
    );
    lines.push(
      `target learner RSS < 1024 MB at 256 actors: ${num(many.learnerRssMB, 1)} MB (${many.learnerRssMB < 1024 ? 'met' : 'not met'})`,
    );
  }
  for (const p of r.manyActors) {
    const bound = p.rolloutsPerSec * p.paramMessageBytes;
    // Judged on the counts (bytes per rollout acked against one message), which the two rates
    // share a window with: the rates' own rounding can put an exact 1.000 a hair over.
    const met = p.paramBytesPerRollout <= p.paramMessageBytes;
    lines.push(
      `target param bytes/s <= rollouts acked/s x one message, A=${p.actors}: ${int(p.paramBytesPerSec)} <= ${int(bound)} ratio ${num(p.paramBytesPerRollout / p.paramMessageBytes)} (${met ? 'met' : 'not met'})`,
    );
  }
  return lines;
}

/** One learner under test: updates on fixed segments, its calls, seconds and summed time split. */
class LearnerUnderTest {
  private j = 0;
  private envSteps = 0;
  calls = 0;
  seconds = 0;
  samples = 0;
  readonly sum: UpdateTimes = { batchMs: 0, gradMs: 0, allReduceMs: 0, optimiserMs: 0 };
  readonly learner: Learner;

  constructor(
    readonly threads: number,
    cfg: LearnerConfig,
    private readonly segs: TrainingSegment[],
    spec: ModelSpec = CARTPOLE_SPEC,
  ) {
    this.learner = new Learner(spec, cfg, initParams(spec, 1), 1);
  }

  async update(count: boolean): Promise<void> {
    const batch = Array.from({ length: SEGMENTS }, () => this.segs[this.j++ % this.segs.length]!);
    const s = await this.learner.update(batch, this.envSteps);
    this.envSteps += s.samples;
    this.samples = s.samples;
    if (count) for (const k of Object.keys(this.sum) as (keyof UpdateTimes)[]) this.sum[k] += s.times[k];
  }

  point(): LearnerPoint {
    const timeMs = Object.fromEntries(Object.entries(this.sum).map(([k, v]) => [k, v / Math.max(1, this.calls)])) as unknown as UpdateTimes;
    return { threads: this.threads, samplesPerSec: (this.calls * this.samples) / this.seconds, updates: this.calls, timeMs };
  }
}

/**
 * Learner-only samples/s for 1..N threads. The learners take turns in short slices (ROUNDS
 * rounds of ms / ROUNDS each), so that a change of machine load during the measurement hits
 * every thread count alike.
 */
async function learnerCurve(
  N: number,
  segs: TrainingSegment[],
  ms: number,
  say: (s: string) => void,
  spec: ModelSpec = CARTPOLE_SPEC,
  parallel: 'exact' | 'data' = 'exact',
): Promise<LearnerPoint[]> {
  const ROUNDS = 10;
  const hidden = spec.hidden.join(',');
  const units = Array.from(
    { length: N },
    (_, i) =>
      new LearnerUnderTest(i + 1, buildConfig({ ...IMPALA, hidden, 'learner-threads': i + 1, 'learner-parallel': parallel }), segs, spec),
  );
  try {
    for (const u of units) for (let i = 0; i < 6; i++) await u.update(false); // warm-up: threads, JIT, buffers
    for (let r = 0; r < ROUNDS; r++) {
      for (const u of units) {
        const t = await timed(() => u.update(true), ms / ROUNDS, 2);
        u.calls += t.calls;
        u.seconds += t.seconds;
      }
    }
    const pts = units.map((u) => u.point());
    for (const p of pts)
      say(`  learner-only [${hidden}]${parallel === 'data' ? ' data' : ''} L=${p.threads}: ${int(p.samplesPerSec)} samples/s`);
    return pts;
  } finally {
    await Promise.all(units.map((u) => u.learner.dispose()));
  }
}

/** A `train` child run at IMPALA settings; steady steps/s between the first and last update records. */
async function endToEndPoint(
  actors: number,
  workers: number,
  learnerThreads: number,
  steps: number,
): Promise<Omit<EndToEndPoint, 'efficiency'>> {
  const args = [
    '--preset',
    'cartpole',
    '--method',
    'ppo',
    '--epochs',
    String(EPOCHS),
    '--minibatches',
    String(MINIBATCHES),
    '--batch-segments',
    String(SEGMENTS),
    '--actors',
    String(actors),
    '--workers',
    String(workers),
    '--learner-threads',
    String(learnerThreads),
    // Two batches in flight per slot: the actor collects the next batch while the learner trains
    // on this one (double buffering, natural lag <= 1; one batch in flight makes the two wait on
    // each other by turns).
    '--max-inflight',
    String(2 * SEGMENTS),
    '--eval-every',
    '0',
    '--final-eval-episodes',
    '1',
    '--steps',
    String(steps),
    '--quiet',
  ];
  let sampler: ThreadCpuSampler | null = null;
  return withTrainRun(
    args,
    (run) => {
      // Skip the first tenth of the updates (start-up: threads, JIT, actors joining).
      const ups = run.updates.slice(Math.floor(run.updates.length / 10));
      const stepsPerSec = steadyStepsPerSecond(ups) ?? NaN;
      const first = ups[0],
        last = ups.at(-1);
      const cpuUsPerStep = sampler && first && last ? sampler.stop(first.time, last.time, last.envSteps - first.envSteps) : null;
      return { actors, workers, learnerThreads, stepsPerSec, updates: run.updates.length, timeMs: meanTimeSplit(ups), cpuUsPerStep };
    },
    (pid) => {
      sampler = startThreadCpuSampler(pid);
    },
  ).finally(() => sampler?.stop(0, 0, 0));
}

const int = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : '-');
const rssMB = (): number => process.memoryUsage().rss / 2 ** 20;

/** Rows "threads | rate | x one thread | x linear" of a scaling curve. */
function curveTable(title: string, unit: string, pts: { threads: number; rate: number }[]): Table {
  const one = pts[0]?.rate ?? NaN;
  return {
    title,
    headers: ['threads', unit, 'x one thread', 'of linear'],
    rows: pts.map((p) => [String(p.threads), int(p.rate), num(p.rate / one), num(p.rate / one / p.threads)]),
  };
}

/** The [256, 256] model of the large rows (compute dominates). */
export const LARGE_SPEC: ModelSpec = { ...CARTPOLE_SPEC, hidden: [256, 256] };

/**
 * ms per call of the batch-building forward pass over one update's rows with `spec` (the part
 * of the in-process "batch" time that the threads share).
 */
function forwardMs(spec: ModelSpec, segs: TrainingSegment[]): number {
  const rows = SEGMENTS * (T * E + E);
  const obs = new Float32Array(rows * spec.obsDim);
  let o = 0;
  for (let k = 0; k < SEGMENTS && o < obs.length; k++) {
    const m = segs[k % segs.length]!.msg.obs;
    obs.set(m.subarray(0, Math.min(m.length, obs.length - o)), o);
    o += m.length;
  }
  const ws = new Workspace(spec, rows);
  const params = Float64Array.from(initParams(spec, 1));
  for (let i = 0; i < 3; i++) forwardTrain(spec, params, obs, rows, ws);
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 300 || calls < 3) {
    forwardTrain(spec, params, obs, rows, ws);
    calls++;
  }
  return (performance.now() - t0) / calls;
}

/**
 * Amdahl from measured fractions: T(L) = serial + parallel / L + overhead x (L - 1), with
 * serial and parallel from the 1-thread run (its gradient time and the forward pass are the
 * parallel part, and its optimiser time where the threads share the optimiser) and the
 * overhead per extra thread from the 2-thread run. A prediction.
 */
export function predictSpeedups(
  pts: LearnerPoint[],
  fwdMs: number,
  at: number[],
  optimiserShared = false,
): { basis: PredictionBasis; predicted: PredictedPoint[] } {
  const one = pts.find((p) => p.threads === 1);
  const two = pts.find((p) => p.threads === 2);
  if (one === undefined) throw new Error('prediction needs the 1-thread point');
  const perUpdate = (p: LearnerPoint) => (1000 * T * E * SEGMENTS) / p.samplesPerSec;
  const t1Ms = perUpdate(one);
  const parallelMs = Math.min(t1Ms, one.timeMs.gradMs + fwdMs + (optimiserShared ? one.timeMs.optimiserMs : 0));
  const serialMs = t1Ms - parallelMs;
  const overheadPerThreadMs = two === undefined ? 0 : Math.max(0, perUpdate(two) - (serialMs + parallelMs / 2));
  const basis = { t1Ms, parallelMs, serialMs, optimiserShared, overheadPerThreadMs };
  return {
    basis,
    predicted: at.map((L) => ({
      threads: L,
      speedup: t1Ms / (serialMs + parallelMs / L + overheadPerThreadMs * (L - 1)),
      speedupIfOverheadConstant: t1Ms / (serialMs + parallelMs / L + (L > 1 ? overheadPerThreadMs : 0)),
    })),
  };
}

/** The targets of issue 20 that this bench measures on the learner, each with its ratio. */
export function learnerTargets(
  r: Pick<ScalingResults, 'learnerOnly' | 'learnerOnlyLarge' | 'predicted'> &
    Partial<Pick<ScalingResults, 'computeCeiling' | 'learnerOnlyData'>>,
): string[] {
  const ratio = (pts: LearnerPoint[]) => {
    const a = pts.find((p) => p.threads === 1)?.samplesPerSec;
    const b = pts.find((p) => p.threads === 2)?.samplesPerSec;
    return a === undefined || b === undefined ? NaN : b / a;
  };
  const line = (name: string, x: number, want: number, what: string) =>
    `target ${name}: ${what} ${Number.isFinite(x) ? x.toFixed(2) : '-'}x, want >= ${want}x: ${Number.isFinite(x) ? (x >= want ? 'met' : 'NOT met') : 'not measured'}`;
  const p12 = r.predicted.find((p) => p.threads === 12) ?? null;
  return [
    line('learner-only 2 threads / 1 thread [64,64]', ratio(r.learnerOnly), 1.6, 'measured'),
    line('learner-only 2 threads / 1 thread [256,256]', ratio(r.learnerOnlyLarge), 1.8, 'measured'),
    ...(r.computeCeiling && r.computeCeiling.threads === 2
      ? [
          `  (this machine, the same run: 2 threads of a pure compute loop gave ${num(r.computeCeiling.ratio)}x one; the learner reached ${num(ratio(r.learnerOnly) / r.computeCeiling.ratio)} of that at [64,64], ${num(ratio(r.learnerOnlyLarge) / r.computeCeiling.ratio)} at [256,256])`,
        ]
      : []),
    ...(r.learnerOnlyData && r.learnerOnlyData.length >= 2
      ? [`  (--learner-parallel data, not the targets' exact semantics: 2 threads / 1 thread [64,64] ${num(ratio(r.learnerOnlyData))}x)`]
      : []),
    ...(p12 === null
      ? []
      : [
          line(
            '12 threads / linear [256,256] (16 cores)',
            p12.speedup / 12,
            0.7,
            'PREDICTED (Amdahl from measured fractions, overhead per extra thread)',
          ),
          line(
            '12 threads / linear [256,256] (16 cores)',
            p12.speedupIfOverheadConstant / 12,
            0.7,
            'PREDICTED (Amdahl from measured fractions, overhead paid once)',
          ),
        ]),
  ];
}

export async function runScaling(a: ScalingArgs, say: (s: string) => void = (s) => console.log(s)): Promise<ScalingResults> {
  const rssStart = rssMB();
  const loadAtStart = loadavg();
  const N = a.maxThreads;
  const settings = `CartPole-v1 [64,64], T=${T} E=${E}, ${SEGMENTS} segments = ${T * E * SEGMENTS} samples/update, ${EPOCHS} epoch x ${MINIBATCHES} minibatches`;
  say(
    `scaling bench: ${settings}; ${availableParallelism()} cpus, load ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, threads 1..${N}`,
  );

  const ceiling = await computeCeiling(N);
  say(
    `  machine: ${N} threads of a pure compute loop give ${num(ceiling.ratio)}x one (1 thread ${int(ceiling.oneBefore)} / ${int(ceiling.oneAfter)} loops/s; ${N} threads ${ceiling.each.map(int).join(' + ')})`,
  );
  const segs = makeSegments(initParams(CARTPOLE_SPEC, 1), 16, T, E);
  const learnerOnly = await learnerCurve(N, segs, 2 * a.ms, say);
  const largeSegs = makeSegments(initParams(LARGE_SPEC, 1), 16, T, E, LARGE_SPEC);
  const learnerOnlyLarge = await learnerCurve(N, largeSegs, 2 * a.ms, say, LARGE_SPEC);
  const learnerOnlyData = await learnerCurve(N, segs, a.ms, say, CARTPOLE_SPEC, 'data');
  const { basis: predictionBasis, predicted } = predictSpeedups(
    learnerOnlyLarge,
    forwardMs(LARGE_SPEC, largeSegs),
    [4, 8, 12, 16],
    parallelOptimiser(LARGE_SPEC),
  );
  for (const p of predicted)
    say(
      `  PREDICTED learner-only [256,256] L=${p.threads}: ${num(p.speedup)}x one thread (${num(p.speedup / p.threads)} of linear) with the 2-thread overhead per extra thread; ${num(p.speedupIfOverheadConstant)}x (${num(p.speedupIfOverheadConstant / p.threads)}) with it paid once`,
    );
  const rssAfterLearner = rssMB();
  if (a.learnerOnly) {
    const r = learnerOnlyResults(
      settings,
      rssStart,
      loadAtStart,
      learnerOnly,
      learnerOnlyLarge,
      learnerOnlyData,
      predicted,
      predictionBasis,
      ceiling,
    );
    r.rssAfterMB.learnerOnly = rssAfterLearner;
    printLearner(r, say);
    return r;
  }

  const actorOnly: ActorPoint[] = [];
  for (let w = 1; w <= N; w++) {
    actorOnly.push({ threads: w, stepsPerSec: (await actorOnlyFps(w, T, E, a.ms)).fps });
    say(`  actor-only ${w} threads: ${int(actorOnly.at(-1)!.stepsPerSec)} steps/s`);
  }
  const rssAfterActor = rssMB();

  const grid: [number, number, number][] = [];
  for (const [actors, workers] of [
    [1, 1],
    [2, 1],
    [1, 2],
  ] as const) {
    for (const L of [1, 2, 4]) if (actors * workers <= N && L <= N) grid.push([actors, workers, L]);
  }
  const endToEnd: EndToEndPoint[] = [];
  for (const [actors, workers, L] of grid) {
    const p = await endToEndPoint(actors, workers, L, a.e2eSteps);
    const lo = learnerOnly.find((x) => x.threads === L)!.samplesPerSec;
    endToEnd.push({ ...p, efficiency: p.stepsPerSec / lo });
    say(
      `  end-to-end ${actors} actors x ${workers} workers, L=${L}: ${int(p.stepsPerSec)} steps/s (${num(p.stepsPerSec / lo)} of learner-only)`,
    );
  }

  const rssAfterMB: Record<string, number> = {};
  rssAfterMB.learnerOnly = rssAfterLearner;
  rssAfterMB.actorOnly = rssAfterActor;
  rssAfterMB.endToEnd = rssMB();
  const ratio: Record<string, number> = {};
  const recvRatio: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const [label, t, e] of [
    ['4KB', 32, 4],
    ['248KB', 128, 64],
  ] as const) {
    const msg = rolloutMessage(t, e, 4);
    const raw = await rawThroughput(msg, Math.min(a.ms, 2500));
    const protocol = await protocolThroughput(msg, Math.min(a.ms, 2500));
    if (protocol.bad > 0) throw new Error(`transport: ${protocol.bad} messages failed to decode`);
    const recv = await receiveSideThroughput(msg, Math.min(a.ms, 2500));
    if (recv.bad > 0) throw new Error(`transport: ${recv.bad} messages failed to decode`);
    ratio[label] = protocol.msgPerS / raw.msgPerS;
    recvRatio[label] = recv.msgPerS / raw.msgPerS;
    bytes[label] = encode(msg).length;
    say(
      `  protocol / raw ${label} (${bytes[label]} B): ${int(protocol.msgPerS)} / ${int(raw.msgPerS)} msg/s = ${num(ratio[label])}; receive + decode / raw: ${int(recv.msgPerS)} msg/s = ${num(recvRatio[label])}`,
    );
  }
  rssAfterMB.transport = rssMB();
  const manyActors = await manyActorsCurve(a.ms, say);
  rssAfterMB.manyActors = rssMB();

  const r: ScalingResults = {
    settings,
    machine: { cpus: availableParallelism(), node: process.version, loadAtStart, loadAtEnd: loadavg() },
    computeCeiling: ceiling,
    rssMB: { start: rssStart, end: rssMB() },
    learnerOnly,
    learnerOnlyLarge,
    learnerOnlyData,
    predicted,
    predictionBasis,
    actorOnly,
    endToEnd,
    protocolOverRaw: { '4KB': ratio['4KB']!, '248KB': ratio['248KB']! },
    receiveSideOverRaw: { '4KB': recvRatio['4KB']!, '248KB': recvRatio['248KB']! },
    rssAfterMB,
    bytes: { '4KB': bytes['4KB']!, '248KB': bytes['248KB']! },
    pipelineEfficiency: pipelineEfficiency(learnerOnly, actorOnly, endToEnd),
    manyActors,
  };
  printLearner(r, say);
  say('');
  say(
    renderText(
      curveTable(
        'Actor-only',
        'steps/s',
        actorOnly.map((p) => ({ threads: p.threads, rate: p.stepsPerSec })),
      ),
    ),
  );
  say('');
  const one = endToEnd[0]?.stepsPerSec ?? NaN;
  say(
    renderText({
      title: 'End-to-end (train child runs, steady state)',
      headers: [
        'actors x workers',
        'learner threads',
        'steps/s',
        'x one thread',
        'of linear',
        'of learner-only',
        ...TIME_SPLIT_KEYS.map((k) => `${k} ms`),
      ],
      rows: endToEnd.map((p) => {
        const threads = p.actors * p.workers + p.learnerThreads;
        return [
          `${p.actors} x ${p.workers}`,
          String(p.learnerThreads),
          int(p.stepsPerSec),
          num(p.stepsPerSec / one),
          num(p.stepsPerSec / one / (threads / 2)),
          num(p.efficiency),
          ...TIME_SPLIT_KEYS.map((k) => (p.timeMs === null ? '-' : num(p.timeMs[k]))),
        ];
      }),
      note: 'x one thread: against 1 actor x 1 worker with 1 learner thread; of linear: that ratio over (actor threads + learner threads) / 2',
    }),
  );
  say('');
  for (const l of cpuLines(r)) say(l);
  say('');
  for (const t of learnerTargets(r)) say(t);
  for (const l of pipelineTargets(r)) say(l);
  say(
    `RSS ${num(r.rssMB.start, 1)} MB at start, after ${Object.entries(rssAfterMB)
      .map(([k, v]) => `${k} ${num(v, 1)}`)
      .join(', ')}, ${num(r.rssMB.end, 1)} MB at end; load ${r.machine.loadAtEnd.map((x) => x.toFixed(2)).join(' ')} at end`,
  );
  return r;
}

function learnerOnlyResults(
  settings: string,
  rssStart: number,
  loadAtStart: number[],
  learnerOnly: LearnerPoint[],
  learnerOnlyLarge: LearnerPoint[],
  learnerOnlyData: LearnerPoint[],
  predicted: PredictedPoint[],
  predictionBasis: PredictionBasis,
  ceiling: ComputeCeiling,
): ScalingResults {
  const nan = { '4KB': NaN, '248KB': NaN };
  return {
    settings,
    machine: { cpus: availableParallelism(), node: process.version, loadAtStart, loadAtEnd: loadavg() },
    computeCeiling: ceiling,
    rssMB: { start: rssStart, end: rssMB() },
    learnerOnly,
    learnerOnlyLarge,
    learnerOnlyData,
    predicted,
    predictionBasis,
    actorOnly: [],
    endToEnd: [],
    protocolOverRaw: nan,
    receiveSideOverRaw: nan,
    bytes: nan,
    rssAfterMB: {},
    pipelineEfficiency: NaN,
    manyActors: [],
  };
}

/** The learner-only tables ([64, 64] and [256, 256]), their time splits, the prediction and the targets. */
function printLearner(r: ScalingResults, say: (s: string) => void): void {
  for (const [label, pts] of [
    ['[64,64]', r.learnerOnly],
    ['[256,256]', r.learnerOnlyLarge],
    ['[64,64], --learner-parallel data (each thread its own minibatch of 128: effective batch L x 128)', r.learnerOnlyData],
  ] as const) {
    say('');
    say(
      renderText(
        curveTable(
          `Learner-only ${label} (no actor running)`,
          'samples/s',
          pts.map((p) => ({ threads: p.threads, rate: p.samplesPerSec })),
        ),
      ),
    );
    say('');
    say(
      renderText({
        title: `Learner-only ${label} time split per update, ms`,
        headers: ['threads', 'batch', 'grad', 'allReduce', 'optimiser'],
        rows: pts.map((p) => [
          String(p.threads),
          num(p.timeMs.batchMs),
          num(p.timeMs.gradMs),
          num(p.timeMs.allReduceMs),
          num(p.timeMs.optimiserMs),
        ]),
      }),
    );
  }
  const b = r.predictionBasis;
  say('');
  say(
    renderText({
      title: 'PREDICTED learner-only speedup at [256,256] (Amdahl from the measured fractions; a prediction, not a measurement)',
      headers: ['threads', 'x one thread', 'of linear', 'overhead paid once: x one thread', 'of linear'],
      rows: r.predicted.map((p) => [
        String(p.threads),
        num(p.speedup),
        num(p.speedup / p.threads),
        num(p.speedupIfOverheadConstant),
        num(p.speedupIfOverheadConstant / p.threads),
      ]),
      note: `per update with 1 thread ${num(b.t1Ms)} ms = serial ${num(b.serialMs)} + parallel ${num(b.parallelMs)} (forward pass + gradients${b.optimiserShared ? ' + optimiser, which the threads share at this size' : ''}); overhead per extra thread ${num(b.overheadPerThreadMs)} ms (from the 2-thread run); T(L) = serial + parallel / L + overhead x (L - 1), or + overhead once (the two bounds: the 2-core machine cannot tell how the overhead grows)`,
    }),
  );
  if (r.endToEnd.length === 0) {
    say('');
    for (const t of learnerTargets(r)) say(t);
  }
}

/** The `--json` summary: the keys the issue asks for. */
export function scalingSummary(r: ScalingResults): object {
  return {
    learnerOnly: r.learnerOnly.map(({ threads, samplesPerSec }) => ({ threads, samplesPerSec })),
    learnerOnlyLarge: r.learnerOnlyLarge.map(({ threads, samplesPerSec }) => ({ threads, samplesPerSec })),
    learnerOnlyData: r.learnerOnlyData.map(({ threads, samplesPerSec }) => ({ threads, samplesPerSec })),
    computeCeiling: { threads: r.computeCeiling.threads, ratio: r.computeCeiling.ratio },
    predicted: r.predicted.map(({ threads, speedup }) => ({ threads, speedup })),
    actorOnly: r.actorOnly.map(({ threads, stepsPerSec }) => ({ threads, stepsPerSec })),
    endToEnd: r.endToEnd.map(({ actors, workers, learnerThreads, stepsPerSec, efficiency, cpuUsPerStep }) => ({
      actors,
      workers,
      learnerThreads,
      stepsPerSec,
      efficiency,
      cpuUsPerStep,
    })),
    protocolOverRaw: r.protocolOverRaw,
    ...pipelineSummary(r),
  };
}

/** The pipeline's keys of the `--json` summary. */
export function pipelineSummary(r: ScalingResults): object {
  return {
    pipelineEfficiency: r.pipelineEfficiency,
    manyActors: r.manyActors
      .filter((p) => p.actors !== 2)
      .map(({ actors, updatesPerSec, rolloutsPerSec, paramBytesPerSec, paramBytesPerRollout, learnerRssMB }) => ({
        actors,
        updatesPerSec,
        rolloutsPerSec,
        paramBytesPerSec,
        paramBytesPerRollout,
        learnerRssMB,
      })),
  };
}

/** Standalone: `node dist/bench/scaling.js [--learner-only] [--max-threads 16] [--json]` (no results file). */
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = parseScalingArgs(process.argv.slice(2));
  const r = await runScaling(a, a.json ? (s) => process.stderr.write(`${s}\n`) : undefined);
  if (a.json) console.log(JSON.stringify(scalingSummary(r)));
  process.exit(0);
}
