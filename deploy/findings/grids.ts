/**
 * The four grids of the findings report (issue 23), as real `train` cells: which tasks, which
 * methods, which lags and seeds, each task's budget and where every setting comes from. Pure:
 * `findingsCells` lists the cells (the sweep's `sweepCells` builds each one's `train`
 * arguments) in the order the runner takes them, the most informative first.
 */
import { join } from 'node:path';
import { parseMethods, sweepCells, type SweepCell, type VaryAxis } from '../sweepGrid.js';
import { UsageError } from '../errors.js';

/** One task: an environment with its settings and budget. A grid runs methods x lags x seeds on it. */
export interface FindingsTask {
  /** Short id, also the run-directory name: 'cartpole-impala'. */
  id: string;
  /** The family its answers are grouped under: 'CartPole', 'Acrobot', 'Pendulum', 'seq-reverse'. */
  family: string;
  env: string;
  preset: string;
  /** Env steps per run (sequence tasks: tokens). */
  steps: number;
  /** train --target-return: a run whose evaluation reaches it (confirmed over 100 episodes) stops early. */
  targetReturn: number | null;
  /** The return that counts as solved (steps to threshold). */
  threshold: number;
  /** Further train flags for every run of the task. */
  extra: string[];
  /**
   * The score every comparison uses: the final evaluation's sampled return ('return'), or for
   * sequence tasks the greedy exact-match rate ('greedySuccess', docs/METHODS.md and README
   * "How to read the spectrum": the sampled rate of a perfect imitator of the noisy teacher is
   * capped at 0.69).
   */
  score: 'return' | 'greedySuccess';
  /** Highest score an episode can reach (performance profiles normalise to it). */
  maxScore: number;
  /** Seconds a run is expected to take on the 2-core machine, for the dry run's estimate before any run finished. */
  estSeconds: number;
  /** Where the settings and the budget come from. */
  source: string;
}

/**
 * IMPALA-style CartPole (issue 23): 512 samples per update, one pass of 4 minibatches, Adam lr
 * 5e-4 held constant, entropy cost 0.01, gradient-norm clip 0.5, V-trace lambda 1. IMPALA
 * (Espeholt et al. 2018) trains once on each batch of actor data with V-trace targets at
 * lambda = 1 and entropy cost 0.01; the rest (network 64x64, discount 0.98, T = 32 steps per
 * segment, 2 actors) is the `cartpole` preset (deploy/presets.ts). 2 actors x 8 envs x 32 steps
 * = 512 samples in one segment per actor, so that with one unacknowledged rollout per worker
 * (--max-inflight 1) every update waits for no queue and the lag is the injected one.
 */
export const IMPALA_FLAGS: readonly string[] = [
  '--epochs',
  '1',
  '--minibatches',
  '4',
  '--envs-per-worker',
  '8',
  '--batch-segments',
  '2',
  '--lr',
  '5e-4',
  '--no-anneal-lr',
  '--ent-coef',
  '0.01',
  '--max-grad-norm',
  '0.5',
  '--lambda',
  '1',
];

export const TASKS: Readonly<Record<string, FindingsTask>> = Object.freeze({
  'cartpole-impala': {
    id: 'cartpole-impala',
    family: 'CartPole',
    env: 'CartPole-v1',
    preset: 'cartpole',
    // Measured here (seed 0, lag 0): ppo reaches a confirmed 475 at 264k steps, is at 162k; 500k
    // leaves room for slower methods and lag while a run stays under a minute.
    steps: 500_000,
    targetReturn: 475,
    threshold: 475,
    extra: [...IMPALA_FLAGS],
    score: 'return',
    maxScore: 500,
    estSeconds: 30,
    source:
      'issue 23 IMPALA-style settings (Espeholt et al. 2018: one pass per batch, V-trace lambda 1, entropy 0.01) on the cartpole preset; 500k steps, early stop at a confirmed 475 (Gymnasium reward_threshold)',
  },
  'cartpole-preset': {
    id: 'cartpole-preset',
    family: 'CartPole',
    env: 'CartPole-v1',
    preset: 'cartpole',
    steps: 100_000,
    targetReturn: 475,
    threshold: 475,
    extra: [],
    score: 'return',
    maxScore: 500,
    estSeconds: 40,
    source: 'the cartpole preset (RL Baselines Zoo PPO: 20 epochs, lr 1e-3 annealed, n_timesteps 1e5); early stop at a confirmed 475',
  },
  acrobot: {
    id: 'acrobot',
    family: 'Acrobot',
    env: 'Acrobot-v1',
    preset: 'acrobot',
    // README: ppo and v5 --floor neg-is reach a confirmed -100 at a median 93k steps (5 seeds).
    steps: 250_000,
    targetReturn: -100,
    threshold: -100,
    extra: [],
    score: 'return',
    maxScore: 0,
    estSeconds: 120,
    source:
      'the acrobot preset (CleanRL PPO); 250k steps (README: the median seed reaches -100 at 93k), early stop at a confirmed -100 (Gymnasium reward_threshold)',
  },
  pendulum: {
    id: 'pendulum',
    family: 'Pendulum',
    env: 'Pendulum-v1',
    preset: 'pendulum',
    steps: 300_000,
    targetReturn: -400,
    threshold: -400,
    extra: [],
    score: 'return',
    maxScore: 0,
    estSeconds: 300,
    source: "the pendulum preset (RL Baselines Zoo PPO, CleanRL lr); the project's bar: -400 within 300k steps (early stop there)",
  },
  ...Object.fromEntries(
    (['0', '0.5', '1'] as const).map((p): [string, FindingsTask] => [
      `seq-reverse-share${p}`,
      {
        id: `seq-reverse-share${p}`,
        family: 'seq-reverse',
        env: 'seq-reverse',
        preset: 'seq',
        // README "Sequence tasks", preset sensitivity: 200k tokens separate the settings there.
        steps: 200_000,
        targetReturn: null,
        threshold: 0.9,
        extra: ['--behaviour', `mix:${p}`],
        score: 'greedySuccess',
        maxScore: 1,
        estSeconds: 60,
        source: `the seq preset (seq-reverse, V 10, L 4, groups of 8), teacher share ${p} (--behaviour mix:${p}); 200k tokens (README preset sensitivity)`,
      },
    ]),
  ),
});

/** Grid 1's methods (issue 23): every method, v5 with each floor, v5-fixed. */
export const GRID1_METHODS = 'sft,is,ppo,cispo,vtrace,sapo,v3.1,v5,v5:floor=neg-is,v5:floor=max1,v5-fixed';
/** The methods the questions compare first: clip, noclip, v3.1 and v5 with each floor. */
export const CORE_METHODS = new Set(['ppo', 'is', 'v3.1', 'v5', 'v5 floor=neg-is', 'v5 floor=max1']);
/** Grids 3 and 4 (issue 23). */
export const GRID3_METHODS = 'is,ppo,vtrace,v3.1,v5,v5:floor=neg-is';

/** Grid 2: v5 inside the draft's recommended ranges (tau_h 1-2, tau_c 0.5-2, gamma_base 0.1-0.3, gamma_max 0.7-0.9), at their ends. */
export const GRID2_VARY: readonly VaryAxis[] = [
  { flag: 'tau-h', values: ['1', '2'] },
  { flag: 'tau-c', values: ['0.5', '2'] },
  { flag: 'gamma-base', values: ['0.1', '0.3'] },
  { flag: 'gamma-max', values: ['0.7', '0.9'] },
];

/** Seeds per cell: 10 on IMPALA-style CartPole (cheap, under a minute a run), else 5 (issue 23). */
export const SEEDS_PER_GRID: Readonly<Record<number, number>> = { 1: 10, 2: 5, 3: 5, 4: 5 };

/** A cell of the findings grids: a sweep cell with its grid, task, label and run order. */
export interface FindingsCell {
  /** Unique and stable across runs: `g<grid>/<task>/<sweep cell name>`; the results file is keyed by it. */
  key: string;
  grid: number;
  task: FindingsTask;
  /** Method label as reports spell it: 'v5 floor=neg-is', 'sft advantage=reward'. */
  method: string;
  /** Grid 2's varied values, 'tau-h=1 tau-c=0.5 gamma-base=0.1 gamma-max=0.7'; '' elsewhere. */
  setting: string;
  lag: number;
  seed: number;
  /** Lower runs first (see `findingsCells`). */
  tier: number;
  cell: SweepCell;
}

interface GroupInput {
  grid: number;
  task: FindingsTask;
  methods: string;
  lags: number[];
  vary?: readonly VaryAxis[];
  /** Further train flags of this group, and the words they add to the method label. */
  extra?: string[];
  labelSuffix?: string;
}

function group(out: string, g: GroupInput): FindingsCell[] {
  const t = g.task;
  const cells = sweepCells({
    methods: parseMethods(g.methods),
    lags: g.lags,
    seeds: SEEDS_PER_GRID[g.grid]!,
    env: t.env,
    steps: t.steps,
    out: join(out, `g${g.grid}-${t.id}`),
    preset: t.preset,
    targetReturn: t.targetReturn,
    extra: [...t.extra, ...(g.extra ?? [])],
    vary: g.vary ?? [],
  });
  return cells.map((c) => {
    const method = g.labelSuffix ? `${c.spec.label} ${g.labelSuffix}` : c.spec.label;
    const name = g.labelSuffix ? `${c.name.replace(/^[^_]+/, (s) => `${s}-${g.labelSuffix!.replace(/[^A-Za-z0-9.]+/g, '-')}`)}` : c.name;
    const runDir = join(out, `g${g.grid}-${t.id}`, name);
    const args = c.args.map((a) => (a === c.runDir ? runDir : a));
    return {
      key: `g${g.grid}/${t.id}/${name}`,
      grid: g.grid,
      task: t,
      method,
      setting: c.vary.map((v) => `${v.flag}=${v.value}`).join(' '),
      lag: c.lag,
      seed: c.seed,
      tier: 0,
      cell: { ...c, name, runDir, args },
    };
  });
}

/**
 * The run order, most informative first (a tier is finished before the next starts; within a
 * tier cells go lag by lag, method by method, seed by seed, so a partial tier holds whole cells):
 *  0. grid 1, IMPALA-style CartPole, the core methods (ppo, is, v3.1, v5 with each floor) at lags 0, 16, 64, seeds 0-4;
 *  1. grid 1, IMPALA-style: the other methods, and lag 4, seeds 0-4;
 *  2. grid 2 (v5 inside the draft's ranges, both floors, lags 4 and 16), seeds 0-4;
 *  3. grid 1 on the cartpole preset, seeds 0-4;
 *  4. grid 3 (Acrobot, Pendulum);
 *  5. grid 4 (seq-reverse at teacher shares 0, 0.5, 1);
 *  6. grid 1's seeds 5-9.
 */
export function findingsCells(out: string): FindingsCell[] {
  const T = TASKS;
  const cells = [
    ...group(out, { grid: 1, task: T['cartpole-impala']!, methods: GRID1_METHODS, lags: [0, 4, 16, 64] }),
    ...group(out, { grid: 1, task: T['cartpole-preset']!, methods: GRID1_METHODS, lags: [0, 4, 16, 64] }),
    ...group(out, { grid: 2, task: T['cartpole-impala']!, methods: 'v5,v5:floor=neg-is', lags: [4, 16], vary: GRID2_VARY }),
    ...group(out, { grid: 3, task: T.acrobot!, methods: GRID3_METHODS, lags: [0, 16] }),
    ...group(out, { grid: 3, task: T.pendulum!, methods: GRID3_METHODS, lags: [0, 16] }),
    ...['0', '0.5', '1'].flatMap((p) => [
      ...group(out, { grid: 4, task: T[`seq-reverse-share${p}`]!, methods: GRID3_METHODS, lags: [0, 16] }),
      ...group(out, {
        grid: 4,
        task: T[`seq-reverse-share${p}`]!,
        methods: 'sft',
        lags: [0, 16],
        extra: ['--advantage', 'reward'],
        labelSuffix: 'advantage=reward',
      }),
    ]),
  ];
  for (const c of cells) c.tier = tierOf(c);
  const lagRank = (c: FindingsCell) => (c.tier === 0 || c.tier === 1 ? [0, 16, 64, 4].indexOf(c.lag) : c.tier === 2 ? 0 : c.lag);
  const index = new Map(cells.map((c, i) => [c, i]));
  return [...cells].sort(
    (a, b) =>
      a.tier - b.tier ||
      lagRank(a) - lagRank(b) ||
      (a.tier === 2 ? a.setting.localeCompare(b.setting) : 0) ||
      index.get(a)! - index.get(b)!,
  );
}

function tierOf(c: FindingsCell): number {
  if (c.grid === 1 && c.seed >= 5) return 6;
  if (c.grid === 1 && c.task.id === 'cartpole-impala') return CORE_METHODS.has(c.method) && c.lag !== 4 ? 0 : 1;
  if (c.grid === 1) return 3;
  if (c.grid === 2) return 2;
  return c.grid === 3 ? 4 : 5;
}

/** Parse --grid: comma-separated grid numbers 1-4. */
export function parseGrids(v: unknown): number[] {
  if (v === undefined) return [1, 2, 3, 4];
  const s = String(v).trim();
  const grids = s.split(',').map((x) => Number(x.trim()));
  if (s === '' || grids.some((g) => !Number.isInteger(g) || g < 1 || g > 4)) {
    throw new UsageError(`--grid: '${s}' is not a comma-separated list of grids 1-4; e.g. --grid 1,2`);
  }
  return [...new Set(grids)];
}

/** Parse --seeds: seed numbers and ranges, '0-4' or '0,1,5-9'. */
export function parseSeeds(v: unknown): number[] | null {
  if (v === undefined) return null;
  const s = String(v).trim();
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) {
      throw new UsageError(`--seeds: '${part.trim()}' in '${s}' is not a seed or a range; e.g. --seeds 0-4 or --seeds 0,1,5-9`);
    }
    for (let k = Number(m[1]); k <= Number(m[2] ?? m[1]); k++) out.add(k);
  }
  return [...out].sort((a, b) => a - b);
}
