/**
 * `npm run bench -- scaling [--max-threads N] [--json]`: how throughput grows with threads, at
 * IMPALA-style settings (CartPole-v1, hidden [64,64], segments of T=32 x E=4, 4 segments =
 * 512 samples per update, one pass of 4 minibatches of 128):
 * - actor-only env steps/s against actor threads 1..N (piscina, real collect task);
 * - learner-only samples/s against --learner-threads 1..N (no actor running), with the
 *   learner's per-update time split;
 * - end-to-end steps/s of real `train` child runs over a grid of (actor processes x workers,
 *   learner threads), steady state from the update records, with their time split;
 * - protocol over raw ZeroMQ message rate at 4 KB and 248 KB;
 * - pipelineEfficiency: end-to-end 1 actor x 1 worker at L = 1 over min(learner-only at L = 1,
 *   actor-only at 1 thread), target >= 0.7;
 * - many actors (bench/manyActors.ts): A = 1, 16, 64, 256 simulated actors against a real
 *   learner: updates/s, rollouts/s, parameter bytes/s and per rollout, learner RSS.
 * Each rate is printed with its ratio to one thread and to linear scaling; RSS at start and end.
 * `--json` prints only the JSON summary (the full figures go to bench/results as always).
 */
import { availableParallelism, loadavg } from 'node:os';
import { initParams } from '../model/params.js';
import { buildConfig } from '../deploy/options.js';
import { UsageError } from '../deploy/errors.js';
import { meanTimeSplit } from '../analysis/tables.js';
import { num, renderText, type Table } from '../analysis/format.js';
import { TIME_SPLIT_KEYS, type UpdateTimeSplit } from '../protocol/records.js';
import { encode } from '../protocol/codec.js';
import { steadyStepsPerSecond, withTrainRun } from './trainChild.js';
import { Learner, type UpdateTimes } from '../learner/learner.js';
import type { TrainingSegment } from '../learner/batch.js';
import type { LearnerConfig } from '../learner/config.js';
import { actorOnlyFps, CARTPOLE_SPEC, makeSegments } from './throughput.js';
import { protocolThroughput, rawThroughput, receiveSideThroughput, rolloutMessage } from './transport.js';
import { timed } from './results.js';
import { manyActorsPoint, type ManyActorsPoint } from './manyActors.js';

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
  /** Measuring time per point, ms. */
  ms: number;
  /** Env steps of each end-to-end run. */
  e2eSteps: number;
}

export function parseScalingArgs(argv: string[]): ScalingArgs {
  const a: ScalingArgs = { maxThreads: availableParallelism(), json: false, ms: 3000, e2eSteps: 150_000 };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--json') a.json = true;
    else if (f === '--max-threads' || f === '--ms' || f === '--e2e-steps') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`scaling: ${f} needs an integer >= 1, got '${argv[i] ?? ''}'`);
      if (f === '--max-threads') a.maxThreads = v;
      else if (f === '--ms') a.ms = v;
      else a.e2eSteps = v;
    } else throw new UsageError(`scaling: unknown argument '${f}'; use --max-threads N, --json, --ms MS, --e2e-steps N`);
  }
  return a;
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
}
export interface ScalingResults {
  settings: string;
  machine: { cpus: number; node: string; loadAtStart: number[]; loadAtEnd: number[] };
  rssMB: { start: number; end: number };
  learnerOnly: LearnerPoint[];
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
    lines.push(
      `target param bytes/s <= rollouts acked/s x one message, A=${p.actors}: ${int(p.paramBytesPerSec)} <= ${int(bound)} ratio ${num(p.paramBytesPerSec / bound)} (${p.paramBytesPerSec <= bound ? 'met' : 'not met'})`,
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
  ) {
    this.learner = new Learner(CARTPOLE_SPEC, cfg, initParams(CARTPOLE_SPEC, 1), 1);
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
async function learnerCurve(N: number, segs: TrainingSegment[], ms: number, say: (s: string) => void): Promise<LearnerPoint[]> {
  const ROUNDS = 10;
  const units = Array.from(
    { length: N },
    (_, i) => new LearnerUnderTest(i + 1, buildConfig({ ...IMPALA, 'learner-threads': i + 1 }), segs),
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
    for (const p of pts) say(`  learner-only L=${p.threads}: ${int(p.samplesPerSec)} samples/s`);
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
    '--max-inflight',
    '4',
    '--eval-every',
    '0',
    '--final-eval-episodes',
    '1',
    '--steps',
    String(steps),
    '--quiet',
  ];
  return withTrainRun(args, (run) => {
    // Skip the first tenth of the updates (start-up: threads, JIT, actors joining).
    const ups = run.updates.slice(Math.floor(run.updates.length / 10));
    const stepsPerSec = steadyStepsPerSecond(ups) ?? NaN;
    return { actors, workers, learnerThreads, stepsPerSec, updates: run.updates.length, timeMs: meanTimeSplit(ups) };
  });
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

export async function runScaling(a: ScalingArgs, say: (s: string) => void = (s) => console.log(s)): Promise<ScalingResults> {
  const rssStart = rssMB();
  const loadAtStart = loadavg();
  const N = a.maxThreads;
  const settings = `CartPole-v1 [64,64], T=${T} E=${E}, ${SEGMENTS} segments = ${T * E * SEGMENTS} samples/update, ${EPOCHS} epoch x ${MINIBATCHES} minibatches`;
  say(
    `scaling bench: ${settings}; ${availableParallelism()} cpus, load ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, threads 1..${N}`,
  );

  const segs = makeSegments(initParams(CARTPOLE_SPEC, 1), 16, T, E);
  const learnerOnly = await learnerCurve(N, segs, 2 * a.ms, say);
  const rssAfterLearner = rssMB();

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
    rssMB: { start: rssStart, end: rssMB() },
    learnerOnly,
    actorOnly,
    endToEnd,
    protocolOverRaw: { '4KB': ratio['4KB']!, '248KB': ratio['248KB']! },
    receiveSideOverRaw: { '4KB': recvRatio['4KB']!, '248KB': recvRatio['248KB']! },
    rssAfterMB,
    bytes: { '4KB': bytes['4KB']!, '248KB': bytes['248KB']! },
    pipelineEfficiency: pipelineEfficiency(learnerOnly, actorOnly, endToEnd),
    manyActors,
  };
  say('');
  say(
    renderText(
      curveTable(
        'Learner-only (no actor running)',
        'samples/s',
        learnerOnly.map((p) => ({ threads: p.threads, rate: p.samplesPerSec })),
      ),
    ),
  );
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
  say(
    renderText({
      title: 'Learner-only time split per update, ms',
      headers: ['threads', 'batch', 'grad', 'allReduce', 'optimiser'],
      rows: learnerOnly.map((p) => [
        String(p.threads),
        num(p.timeMs.batchMs),
        num(p.timeMs.gradMs),
        num(p.timeMs.allReduceMs),
        num(p.timeMs.optimiserMs),
      ]),
    }),
  );
  for (const l of pipelineTargets(r)) say(l);
  say(
    `RSS ${num(r.rssMB.start, 1)} MB at start, after ${Object.entries(rssAfterMB)
      .map(([k, v]) => `${k} ${num(v, 1)}`)
      .join(', ')}, ${num(r.rssMB.end, 1)} MB at end; load ${r.machine.loadAtEnd.map((x) => x.toFixed(2)).join(' ')} at end`,
  );
  return r;
}

/** The `--json` summary: the keys the issue asks for. */
export function scalingSummary(r: ScalingResults): object {
  return {
    learnerOnly: r.learnerOnly.map(({ threads, samplesPerSec }) => ({ threads, samplesPerSec })),
    actorOnly: r.actorOnly.map(({ threads, stepsPerSec }) => ({ threads, stepsPerSec })),
    endToEnd: r.endToEnd.map(({ actors, workers, learnerThreads, stepsPerSec, efficiency }) => ({
      actors,
      workers,
      learnerThreads,
      stepsPerSec,
      efficiency,
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
