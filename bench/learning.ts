/**
 * The learning benchmark: methods x lags x seeds, each cell a real `train` child run
 *   node dist/deploy/cli.js train --preset cartpole --env CartPole-v1 --method M [--floor neg-is]
 *     --lag none|fixed:K --seed S --steps N --run-dir <out>/<cell> --quiet
 * run by the sweep's grid runner (deploy/sweepGrid.ts `runGrid`: at most --parallel at once,
 * cells whose run dir already holds a summary reused), then a
 * table per (method, lag): steps to the threshold on the stochastic evaluation, final
 * evaluation (100 episodes), behaviour return, AUC, ESS, KL(mu||pi) k3, entropy, collapses,
 * and for v5 the mean g per quadrant over every gradient step of the first 10% of updates (trainQuadrants; docs/METHODS.md section 3.6).
 * Flags: --methods ppo,v5,v5:floor=neg-is --lags 0 --seeds 1 --steps 100000 --parallel 1
 *        --env CartPole-v1|Acrobot-v1 (or --acrobot) --threshold R --out DIR
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRun } from '../analysis/read.js';
import { type QuadrantKey } from '../analysis/tables.js';
import { envThreshold } from '../analysis/thresholds.js';
import { meanPm, num, renderText, type Table } from '../analysis/format.js';
import { UsageError } from '../deploy/errors.js';
import { parseLags, parseMethods, runGrid, sweepCells } from '../deploy/sweepGrid.js';
import { aggregate, cellFigures, type CellAggregate, type CellFigures } from './learningFigures.js';
import { parseBenchArgs } from '../deploy/commandFields.js';
import { resultsDir, stamp } from './results.js';

const CLI = fileURLToPath(new URL('../deploy/cli.js', import.meta.url));

/** Per environment: the preset and the return that counts as solved. */
/** The environments this benchmark knows: each one's preset; thresholds from analysis/thresholds.ts. */
const ENVS: Record<string, { preset: string; threshold: number }> = {
  'CartPole-v1': { preset: 'cartpole', threshold: envThreshold('CartPole-v1')! },
  'Acrobot-v1': { preset: 'acrobot', threshold: envThreshold('Acrobot-v1')! },
};

export interface LearningOptions {
  methods: string;
  lags: string;
  seeds: number;
  steps: number;
  parallel: number;
  env: string;
  threshold: number;
  out: string;
  /** Extra flags for every train run (e.g. --target-return -100). */
  extra: string[];
}

export interface LearningResults {
  options: LearningOptions;
  commands: string[];
  failed: string[];
  cells: CellFigures[];
  aggregates: CellAggregate[];
  seconds: number;
}

/** Parse the learning flags (argv after 'learning'); throws a UsageError naming the bad flag. */
export function parseLearningArgs(argv: string[]): LearningOptions {
  // The flags, their defaults and checks are the rows of 'bench learning' in deploy/commandFields.ts.
  const values = parseBenchArgs('bench learning', argv);
  const env = values.acrobot === true ? 'Acrobot-v1' : (values.env as string);
  if (!ENVS[env]) throw new UsageError(`--env: '${env}' is not one of ${Object.keys(ENVS).join(', ')}`);
  return {
    methods: values.methods as string,
    lags: values.lags as string,
    seeds: values.seeds as number,
    steps: values.steps as number,
    parallel: values.parallel as number,
    env,
    threshold: (values.threshold as number | undefined) ?? ENVS[env]!.threshold,
    out: (values.out as string | undefined) ?? path.join(resultsDir(), `learning-${stamp()}`),
    extra: (values.extra as string).split(/\s+/).filter((x) => x.length > 0),
  };
}

/** Run the grid (resuming finished cells), print the tables, return the figures. */
export async function runLearning(o: LearningOptions, say: (s: string) => void = (s) => console.log(s)): Promise<LearningResults> {
  const t0 = performance.now();
  const methods = parseMethods(o.methods);
  const lags = parseLags(o.lags);
  const cells = sweepCells({
    methods,
    lags,
    seeds: o.seeds,
    env: o.env,
    steps: o.steps,
    out: o.out,
    preset: ENVS[o.env]!.preset,
    extra: o.extra,
  });
  const logDir = path.join(o.out, '_logs');
  say(
    `learning bench: ${o.env}, ${cells.length} cell(s) (${methods.map((m) => m.label).join(', ')} x lags ${lags.join(',')} x ${o.seeds} seed(s)), ${o.steps} steps each, ${o.parallel} at once; runs in ${o.out}`,
  );

  const figures: CellFigures[] = [];
  const failed: string[] = [];
  await runGrid(cells, {
    cli: CLI,
    logDir,
    parallel: o.parallel,
    onCell: async ({ cell, code, reused, ms, log }) => {
      const secs = (ms / 1000).toFixed(1);
      if (code !== 0) {
        failed.push(`${cell.name} (exit ${code}, log ${log})`);
        say(`  ${cell.name}: FAILED exit ${code} after ${secs} s`);
        return;
      }
      const f = cellFigures(cell.name, cell.spec.label, cell.lag, cell.seed, await readRun(cell.runDir), o.threshold);
      figures.push(f);
      say(
        `  ${cell.name}: ${reused ? 'reused' : `${secs} s`}, final eval ${num(f.finalStochastic)} (greedy ${num(f.finalGreedy)}), steps to ${o.threshold} ${f.stepsToThreshold ?? 'never'}${f.collapsed ? ', COLLAPSED' : ''}`,
      );
    },
  });

  const aggregates: CellAggregate[] = [];
  for (const m of methods) {
    for (const lag of lags) {
      const group = figures.filter((f) => f.label === m.label && f.lag === lag).sort((a, b) => a.seed - b.seed);
      if (group.length > 0) aggregates.push(aggregate(group));
    }
  }
  figures.sort((a, b) => cells.findIndex((c) => c.name === a.name) - cells.findIndex((c) => c.name === b.name));
  say('');
  say(renderText(learningTable(o, aggregates)));
  const v5 = aggregates.filter((a) => a.label.startsWith('v5'));
  if (v5.length > 0) {
    say('');
    say(renderText(quadrantTable(v5)));
  }
  if (failed.length > 0) say(`\n${failed.length} cell(s) failed: ${failed.join('; ')}`);
  return {
    options: o,
    commands: cells.map((c) => `node dist/deploy/cli.js train ${c.args.join(' ')}`),
    failed,
    cells: figures,
    aggregates,
    seconds: (performance.now() - t0) / 1000,
  };
}

function learningTable(o: LearningOptions, rows: CellAggregate[]): Table {
  return {
    title: `Learning: ${o.env}, ${o.steps} env steps, ${o.seeds} seed(s) per cell`,
    headers: [
      'method',
      'lag',
      'seeds',
      `steps to ${o.threshold}`,
      'reached',
      'final eval stoch',
      'final eval greedy',
      'behaviour',
      'AUC',
      'ESS',
      'KL k3',
      'entropy',
      'collapsed',
    ],
    rows: rows.map((a) => [
      a.label,
      String(a.lag),
      String(a.seeds),
      a.medianStepsToThreshold === null ? 'never' : num(a.medianStepsToThreshold, 0),
      `${a.reached}/${a.seeds}`,
      a.finalStochastic ? meanPm(a.finalStochastic.mean, a.finalStochastic.halfWidth, a.finalStochastic.n) : '-',
      a.finalGreedy ? meanPm(a.finalGreedy.mean, a.finalGreedy.halfWidth, a.finalGreedy.n) : '-',
      num(a.finalBehaviour, 1),
      num(a.auc, 1),
      num(a.ess),
      num(a.klK3),
      num(a.finalEntropy),
      `${a.collapsed}/${a.seeds}`,
    ]),
    note:
      `steps to ${o.threshold}: median over seeds of the first step from which the evaluation (stochastic) stays at or above it, a seed that never got there counting as infinite; ` +
      'final eval: summary finalEval (100 episodes), mean ± 95% CI over seeds; behaviour: mean of the last 100 actor episodes; ' +
      'AUC: mean evaluation return over the step axis; ESS, KL(mu||pi) k3: sample-weighted over all updates; entropy: last update; ' +
      'collapsed: an update flagged collapsed in the last 20%, or final entropy < 0.05 with final eval below the random return',
  };
}

const Q_HEADERS: [QuadrantKey, string][] = [
  ['wHighAPos', 'w>1 A>0'],
  ['wHighANeg', 'w>1 A<=0'],
  ['wLowAPos', 'w<=1 A>0'],
  ['wLowANeg', 'w<=1 A<=0'],
];

function quadrantTable(rows: CellAggregate[]): Table {
  return {
    title:
      'v5: mean g per quadrant over every gradient step of the first 10% of updates (trainQuadrants; docs/METHODS.md section 3.6), mean over seeds',
    headers: ['method', 'lag', ...Q_HEADERS.map(([, h]) => h)],
    rows: rows.map((a) => [a.label, String(a.lag), ...Q_HEADERS.map(([k]) => num(a.endQuadrantG[k]))]),
  };
}
