/**
 * Synthetic run directories for analysis tests: schema-conformant `config.json`,
 * `learner.ndjson` (updates, a summary, plus noise lines), `actor-<k>.ndjson` and
 * `launcher.ndjson`, with optional malformed lines and a truncated last line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../analysis/read.js';
import type { ActorRecord, LagBucketLabel, LagBucketStat, Quadrants, SummaryRecord, UpdateRecord } from '../../protocol/records.js';

const BASE = { level: 30, time: 1_700_000_000_000, backend: 'cpu' } as const;

/** Quadrants with the given (n, meanG) per quadrant, in the order wHighAPos, wHighANeg, wLowAPos, wLowANeg. */
export function quadrants(q: [number, number | null][]): Quadrants {
  const s = (i: number) => ({ n: q[i]?.[0] ?? 0, meanG: q[i]?.[1] ?? null });
  return { wHighAPos: s(0), wHighANeg: s(1), wLowAPos: s(2), wLowANeg: s(3) };
}

/** A lag bucket stat with every diagnostic set from `v`. */
export function bucket(n: number, v: Partial<LagBucketStat> = {}): LagBucketStat {
  return {
    n,
    ess: 0.9,
    essG: 0.8,
    klMuPiK1: 0.01,
    klMuPiK3: 0.02,
    klPiMu: 0.03,
    meanG: 0.5,
    quadrants: quadrants([
      [n / 4, 1],
      [n / 4, -1],
      [n / 4, 0.5],
      [n / 4, -0.5],
    ]),
    ...v,
  };
}

/** A complete UpdateRecord; `u` overrides any field. */
export function makeUpdate(u: Partial<UpdateRecord> = {}): UpdateRecord {
  const samples = u.samples ?? 64;
  return {
    ...BASE,
    role: 'learner',
    runId: 'synth',
    kind: 'update',
    version: 1,
    envSteps: 1000,
    samples,
    method: 'v5',
    lag: { min: 0, mean: 0, max: 0 },
    ess: 0.9,
    essG: 0.8,
    lr: 1e-3,
    maxAbsLogRatio: 0.1,
    trainQuadrants: null,
    klMuPiK1: 0.01,
    klMuPiK3: 0.02,
    klPiMu: 0.03,
    wQuantiles: { p05: 0.8, p50: 1, p95: 1.2 },
    meanH: 0.9,
    meanGamma: 0.3,
    meanG: 0.5,
    quadrants: bucket(samples).quadrants,
    lagBuckets: { '0': bucket(samples) },
    policyLoss: 0.1,
    valueLoss: 0.2,
    entropy: 0.6,
    gradNorm: 1,
    return: { mean100: 20, episodes: 10 },
    fps: 1000,
    queueDepth: 0,
    trained: 1,
    dropped: 0,
    rejected: 0,
    lost: 0,
    ...u,
  };
}

export interface SynthOptions {
  label?: string;
  method?: string;
  /** Lag spec as config.json spells it: 'none' or 'fixed:K'. */
  lag?: string;
  seed?: number;
  updates?: number;
  stepsPerUpdate?: number;
  /** Return as a function of env steps (default: rises linearly to 500). */
  returnAt?: (envSteps: number) => number;
  /** Add `eval` to every k-th update (0 = never). */
  evalEvery?: number;
  actors?: number;
  /** Non-JSON lines inserted into learner.ndjson. */
  malformedLines?: number;
  /** Cut the last line of learner.ndjson in half (no summary record then). */
  truncateLast?: boolean;
  /** Write the summary record (default true unless truncateLast). */
  summary?: boolean;
  /** Entropy as a function of env steps (default 0.6). */
  entropyAt?: (envSteps: number) => number;
  /** Flag `collapsed` on updates from this version on (default: never; the field is always written). */
  collapseFrom?: number;
  /** Last version flagged `collapsed` (the run recovers after it); default: to the end. */
  collapseUntil?: number;
  /** Give every update `trainQuadrants` (default true); false writes null, as --grad tfjs does. */
  trainQuadrants?: boolean;
  /** The summary's finalEval.stochastic (greedy = +1); null omits finalEval (default: returnAt at the end). */
  finalEval?: number | null;
  /** finalEval.envSteps: the env steps the final evaluation itself used (real logs write it). */
  finalEvalSteps?: number;
  /** --target-return written to config.json. */
  targetReturn?: number;
  /** Last update written (the run stopped early there); default `updates`. */
  stopAtUpdate?: number;
  /** Collapse entropy written to config.json. */
  collapseEntropy?: number;
  /** Env id written to config.json (default CartPole-v1). */
  env?: string;
  /** `behaviour` written to config.json (sequence tasks: stale, teacher, mix:P); omitted when undefined. */
  behaviour?: string;
  /** Any further config.json fields (e.g. advantage). */
  extraConfig?: Record<string, unknown>;
  /** Sequence tasks: finalEval.success and finalEval.greedySuccess (written only with a finalEval). */
  success?: number;
  greedySuccess?: number;
}

/** trainQuadrants of update `i`: g falls in the w<=1, A<=0 quadrant as training goes on (for tests). */
export function trainQuadrantsAt(i: number): Quadrants {
  return quadrants([
    [40, 1.2],
    [30, 1.1],
    [20, 0.7],
    [10, 1 / i],
  ]);
}

/** Write a synthetic run into `dir` (created). Returns the config written. */
export function writeSynthRun(dir: string, o: SynthOptions = {}): RunConfig {
  mkdirSync(dir, { recursive: true });
  const method = o.method ?? 'v5';
  const lag = o.lag ?? 'none';
  const lagK = lag.startsWith('fixed:') ? Number(lag.slice(6)) : 0;
  const seed = o.seed ?? 0;
  const n = o.updates ?? 20;
  const stepsPer = o.stepsPerUpdate ?? 500;
  const returnAt = o.returnAt ?? ((s: number) => Math.min(500, (s / (n * stepsPer)) * 500));
  const last = Math.min(n, o.stopAtUpdate ?? n);
  const config: RunConfig = {
    runId: `synth-${method}-${lagK}-${seed}`,
    env: o.env ?? 'CartPole-v1',
    seed,
    lag,
    label: o.label ?? method,
    objective: { method: method as 'v5' },
    steps: n * stepsPer,
    deterministic: true,
    backend: 'cpu',
    grad: 'js',
    ...(o.targetReturn !== undefined ? { targetReturn: o.targetReturn } : {}),
    ...(o.collapseEntropy !== undefined ? { collapseEntropy: o.collapseEntropy } : {}),
    ...(o.behaviour !== undefined ? { behaviour: o.behaviour } : {}),
    ...o.extraConfig,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));

  const lines: string[] = [JSON.stringify({ ...BASE, role: 'learner', runId: config.runId, msg: 'learner started' })];
  const bucketLabel = lagBucketOf(lagK);
  const essAtLag = 1 / (1 + 0.02 * lagK);
  for (let i = 1; i <= last; i++) {
    const envSteps = i * stepsPer;
    const ret = returnAt(envSteps);
    const u = makeUpdate({
      runId: config.runId,
      method,
      version: i,
      envSteps,
      lag: { min: Math.max(0, lagK - 1), mean: lagK, max: lagK + 1 },
      ess: essAtLag,
      lagBuckets: { [bucketLabel]: bucket(64, { ess: essAtLag, klMuPiK3: 0.001 * lagK }) },
      return: { mean100: ret - 5, episodes: i * 2 },
      eval:
        o.evalEvery && i % o.evalEvery === 0 ? { stochastic: ret, greedy: Math.min(500, ret + 10), episodes: 5, version: i } : undefined,
      fps: 1000 + seed,
      trained: i,
      entropy: o.entropyAt ? o.entropyAt(envSteps) : 0.6,
      collapsed: o.collapseFrom !== undefined && i >= o.collapseFrom && i <= (o.collapseUntil ?? Infinity),
      trainQuadrants: o.trainQuadrants === false ? null : trainQuadrantsAt(i),
    });
    if (u.eval === undefined) delete u.eval;
    lines.push(JSON.stringify(u));
    if (o.malformedLines && i <= o.malformedLines) lines.push('{"kind":"update", broken');
  }
  if ((o.summary ?? !o.truncateLast) && !o.truncateLast) {
    const fe = o.finalEval === undefined ? returnAt(last * stepsPer) : o.finalEval;
    const s: SummaryRecord = {
      ...BASE,
      role: 'learner',
      runId: config.runId,
      kind: 'summary',
      version: last,
      envSteps: last * stepsPer,
      ...(fe === null
        ? {}
        : {
            finalEval: {
              stochastic: fe,
              greedy: fe + 1,
              episodes: 100,
              version: last,
              ...(o.finalEvalSteps !== undefined ? { envSteps: o.finalEvalSteps } : {}),
              ...(o.success !== undefined ? { success: o.success } : {}),
              ...(o.greedySuccess !== undefined ? { greedySuccess: o.greedySuccess } : {}),
            },
          }),
      wallSeconds: 10,
      randomReturn: 22,
      stopReason: 'step budget reached',
      trained: n,
      dropped: 2,
      rejected: 1,
      lost: 0,
      received: n + 3,
      dropReasons: { stale: 2 },
      rejectReasons: { badVersion: 1 },
      return: { mean100: returnAt(last * stepsPer) - 5, episodes: last * 2 },
    };
    lines.push(JSON.stringify(s));
  }
  let text = lines.join('\n') + '\n';
  if (o.truncateLast) text = text.slice(0, text.length - Math.floor(lines[lines.length - 1]!.length / 2) - 1);
  writeFileSync(join(dir, 'learner.ndjson'), text);

  for (let k = 0; k < (o.actors ?? 2); k++) {
    const recs: ActorRecord[] = [1, 2].map((j) => ({
      ...BASE,
      role: 'actor',
      runId: config.runId,
      kind: 'actor',
      actorId: k,
      fps: 400 + 100 * j,
      segmentsSent: 10 * j,
      versionsReceived: 5 * j,
      lagUsed: { min: 0, mean: lagK, max: lagK },
      envSteps: 1000 * j,
    }));
    writeFileSync(join(dir, `actor-${k}.ndjson`), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  writeFileSync(join(dir, 'launcher.ndjson'), JSON.stringify({ ...BASE, role: 'launcher', msg: 'started' }) + '\n');
  return config;
}

/** docs/METHODS.md section 5 lag bucket of a lag in versions. */
export function lagBucketOf(lag: number): LagBucketLabel {
  if (lag <= 0) return '0';
  if (lag === 1) return '1';
  if (lag < 4) return '2-3';
  if (lag < 8) return '4-7';
  if (lag < 16) return '8-15';
  if (lag < 32) return '16-31';
  if (lag < 64) return '32-63';
  return '64+';
}
