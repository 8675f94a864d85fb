/**
 * One run's analysis: the figures (JSON-able), the text/HTML tables and the charts, all built
 * from a RunData by the pure functions in tables.ts and charts.ts.
 */
import { entropyChart, essByLagChart, klByLagChart, lagOverTimeChart, quadrantChart, returnCurveChart, type Chart } from './charts.js';
import { dec, num, sig, type Table } from './format.js';
import type { Block } from './layout.js';
import { TIME_SPLIT_KEYS } from '../protocol/records.js';
import { runOutcome, trainQuadrantTable, type RunOutcome, type TrainQuadrantSummary } from './outcome.js';
import type { RunConfig, RunData } from './read.js';
import {
  accounting,
  learningCurve,
  lagTable,
  throughput,
  type Accounting,
  type CurveSummary,
  type LagRow,
  type Throughput,
} from './tables.js';
import { asThreshold, thresholdText, type Threshold } from './thresholds.js';

/** The figures of one run; `analyze --json` prints this. */
export interface RunFigures {
  dir: string;
  config: RunConfig;
  lagTable: LagRow[];
  curve: Omit<CurveSummary, 'points' | 'series'> & { points: number };
  outcome: RunOutcome;
  trainQuadrants: TrainQuadrantSummary;
  throughput: Throughput;
  accounting: Accounting;
  log: { malformed: number; truncated: boolean; hasSummary: boolean; warnings: string[] };
}

export interface Analysis<F> {
  figures: F;
  tables: Table[];
  charts: Chart[];
  warnings: string[];
  /** Reading order of the report: every table and chart above, answer first. */
  layout: Block[];
}

/**
 * Analyse one run; `threshold` is the return that counts as solved (steps-to-threshold): a
 * number, null for none, or a Threshold (thresholds.ts) whose source the outcome note names.
 */
export function analyzeRun(run: RunData, threshold: number | null | Threshold): Analysis<RunFigures> {
  const thr = asThreshold(threshold);
  const rows = lagTable(run.updates);
  const outcome = runOutcome(run.updates, run.summary, run.config);
  const curve = learningCurve(run.updates, run.summary, thr.value, outcome.stoppedAtTarget ? run.config.steps : undefined);
  const tq = trainQuadrantTable(run.updates);
  const tp = throughput(run.updates, run.summary, run.actors);
  const acc = accounting(run.updates, run.summary);
  const c = run.config;
  const { points, series: _series, ...curveRest } = curve;
  const figures: RunFigures = {
    dir: run.dir,
    config: c,
    lagTable: rows,
    curve: { ...curveRest, points: points.length },
    outcome,
    trainQuadrants: tq,
    throughput: tp,
    accounting: acc,
    log: { malformed: run.malformed, truncated: run.truncated, hasSummary: run.summary !== null, warnings: run.warnings },
  };

  const outcomeT = outcomeTable(curve, outcome, thr, c);
  const lagT: Table = {
    title: 'Per lag bucket (sample-weighted over the run; w and g before each update)',
    headers: [
      'lag',
      'samples',
      'ESS',
      'ESS(g)',
      'KL(mu||pi) k3',
      'KL(pi||mu)',
      'mean g',
      'g w>1 A>0',
      'g w>1 A<=0',
      'g w<=1 A>0',
      'g w<=1 A<=0',
    ],
    rows: rows.map((r) => [
      r.bucket,
      String(r.n),
      dec(r.ess),
      dec(r.essG),
      dec(r.klMuPiK3),
      dec(r.klPiMu),
      dec(r.meanG),
      dec(r.quadrantG.wHighAPos),
      dec(r.quadrantG.wHighANeg),
      dec(r.quadrantG.wLowAPos),
      dec(r.quadrantG.wLowANeg),
    ]),
  };
  const tqT = trainQuadrantTableOf(tq, c);
  const curveT = curveTable(curve, thr.value, curve.series.length - (curve.heldFrom === null ? 0 : run.summary?.finalEval ? 2 : 1));
  const tpT: Table = {
    title: 'Throughput',
    headers: ['figure', 'value'],
    rows: [
      ['learner fps (mean over updates)', num(tp.learnerFpsMean)],
      ['overall fps (env steps / wall s)', num(tp.overallFps)],
      ['wall seconds', num(tp.wallSeconds)],
      ['actors', String(tp.actors)],
      ['actor fps (sum of per-actor means)', num(tp.actorFpsTotal)],
      ...(tp.timeSplit === null ? [] : TIME_SPLIT_KEYS.map((k) => [`update time: ${k} (mean ms)`, num(tp.timeSplit![k])])),
    ],
  };
  const logT: Table = {
    title: 'Log parsing',
    headers: ['field', 'value'],
    rows: [
      ['run directory', run.dir],
      ['updates', String(run.updates.length)],
      ['env steps', num(tp.envSteps)],
      ['summary record', run.summary ? 'yes' : 'no (run did not finish)'],
      ['malformed lines skipped', String(run.malformed)],
      ['truncated last line', run.truncated ? 'yes (skipped)' : 'no'],
    ],
  };
  // At the training step the run ended on: finalEval.envSteps is what the evaluation itself used.
  const fe =
    outcome.finalEval && run.summary
      ? {
          envSteps: run.summary.envSteps,
          stochastic: outcome.finalEval.stochastic,
          greedy: outcome.finalEval.greedy,
          episodes: outcome.finalEval.episodes,
        }
      : null;
  const ret = returnCurveChart(points, fe);
  const ent = entropyChart(run.updates, c.collapseEntropy);
  const essC = essByLagChart(rows);
  const klC = klByLagChart(rows);
  const qC = quadrantChart(rows);
  const lagC = lagOverTimeChart(run.updates);
  const layout: Block[] = [
    { kind: 'table', table: outcomeT },
    { kind: 'chart', chart: ret },
    { kind: 'table', table: curveT },
    { kind: 'chart', chart: ent },
    { kind: 'table', table: lagT },
    { kind: 'chart', chart: essC },
    { kind: 'chart', chart: klC },
    { kind: 'chart', chart: qC },
    { kind: 'table', table: tqT },
    { kind: 'chart', chart: lagC },
    { kind: 'table', table: tpT },
    { kind: 'table', table: accountingTable(acc) },
    { kind: 'table', table: logT },
  ];
  const tables = layout.flatMap((x) => (x.kind === 'table' ? [x.table] : []));
  const charts = layout.flatMap((x) => (x.kind === 'chart' ? [x.chart] : []));
  return { figures, tables, charts, warnings: run.warnings, layout };
}

const QUADRANT_NAME: Record<string, string> = {
  wHighAPos: 'w>1, A>0',
  wHighANeg: 'w>1, A<=0',
  wLowAPos: 'w<=1, A>0',
  wLowANeg: 'w<=1, A<=0',
  all: 'all',
};

function trainQuadrantTableOf(tq: TrainQuadrantSummary, c: RunConfig): Table {
  const why = c.grad === 'tfjs' ? 'logs written with --grad tfjs before the weights became data have none' : 'this log predates the field';
  return {
    title: 'g per quadrant during training (all epochs)',
    headers: ['quadrant', 'samples (run)', 'mean g (run)', `samples (last ${tq.lastUpdates} updates)`, 'mean g (last 10%)'],
    rows: tq.rows.map((r) => [QUADRANT_NAME[r.quadrant]!, String(r.n), dec(r.meanG), String(r.nLast), dec(r.meanGLast)]),
    note:
      tq.updatesWith === 0
        ? `No update carries trainQuadrants (${why}).`
        : `Every sample of every gradient step, w against the parameters at that step, sample-weighted; ${tq.updatesWith} of ${tq.updates} updates carry it. The per-lag table above uses w before each update (1 on-policy).`,
  };
}

/** The answer first: the final evaluation, steps to threshold, collapse and why the run stopped. */
function outcomeTable(curve: CurveSummary, o: RunOutcome, thr: Threshold, c: RunConfig): Table {
  const threshold = thr.value;
  const fe = o.finalEval;
  const collapsed = o.collapsedAt
    ? `yes, first at version ${o.collapsedAt.version} (${num(o.collapsedAt.envSteps)} env steps)${o.collapsedAtEnd ? ', still at the end' : ', not at the end'}`
    : 'no';
  return {
    title: `Outcome: ${c.label}, lag ${c.lag}, env ${c.env}, seed ${c.seed}`,
    headers: ['figure', 'value'],
    rows: [
      ['final eval stochastic', fe ? sig(fe.stochastic, 4) : '- (no summary finalEval)'],
      ['final eval greedy', fe ? sig(fe.greedy, 4) : '-'],
      ['final eval episodes', fe ? String(fe.episodes) : '-'],
      ['random policy return', sig(o.randomReturn, 4)],
      threshold === null
        ? ['steps to threshold (held to the end)', '- (no threshold)']
        : [
            `steps to return >= ${threshold} (held to the end)`,
            curve.stepsToThreshold === null ? 'not reached' : num(curve.stepsToThreshold),
          ],
      ['collapsed', collapsed],
      ['final entropy (nats)', sig(o.finalEntropy)],
      ['stop reason', o.stopReason ?? '- (no summary)'],
    ],
    note: outcomeNote(fe, thr),
  };
}

function outcomeNote(fe: RunOutcome['finalEval'], thr: Threshold): string | undefined {
  const parts = [
    ...(fe
      ? [`The final evaluation runs the final policy for ${fe.episodes} episodes after training; it is the return compare ranks on.`]
      : []),
    ...(thr.shown ? [`Steps to threshold: ${thr.value === null ? '' : 'return '}${thresholdText(thr)}.`] : []),
  ];
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function curveTable(curve: CurveSummary, threshold: number | null, points: number): Table {
  return {
    title: `Learning curve (${curve.source === 'eval' ? 'eval stochastic return' : 'behaviour return.mean100'})`,
    headers: ['figure', 'value'],
    rows: [
      [
        `final return (${curve.finalSteps !== null && curve.finalReturn !== null ? 'the final eval when logged, else the last curve point' : '-'})`,
        dec(curve.finalReturn),
      ],
      ['at env steps', num(curve.finalSteps)],
      threshold === null
        ? ['first return >= threshold', '- (no threshold)']
        : [`first return >= ${threshold}`, curve.firstReachedSteps === null ? 'never' : num(curve.firstReachedSteps)],
      [
        `AUC (mean return over steps, trapezoid${curve.heldFrom !== null ? '; held at the final return after the stop' : ''})`,
        dec(curve.auc),
      ],
      [`curve points (${curve.source === 'eval' ? 'evaluations' : 'updates with a behaviour return'})`, String(points)],
    ],
  };
}

function accountingTable(a: Accounting): Table {
  const reasons = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || '-';
  return {
    title: `Rollout accounting (${a.source === 'summary' ? 'summary record' : a.source === 'last-update' ? 'last update: run did not finish' : 'no records'})`,
    headers: ['outcome', 'count', 'reasons'],
    rows: [
      ['received', num(a.received), ''],
      ['trained', String(a.trained), ''],
      ['dropped', String(a.dropped), reasons(a.dropReasons)],
      ['rejected', String(a.rejected), reasons(a.rejectReasons)],
      ['lost', String(a.lost), ''],
    ],
  };
}
