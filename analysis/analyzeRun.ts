/**
 * One run's analysis: the figures (JSON-able), the text/HTML tables and the charts, all built
 * from a RunData by the pure functions in tables.ts and charts.ts.
 */
import {
  essByLagChart,
  klByLagChart,
  lagOverTimeChart,
  quadrantChart,
  returnCurveChart,
  type Chart,
} from './charts.js';
import { num, type Table } from './format.js';
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

/** The figures of one run; `analyze --json` prints this. */
export interface RunFigures {
  dir: string;
  config: RunConfig;
  lagTable: LagRow[];
  curve: Omit<CurveSummary, 'points'> & { points: number };
  throughput: Throughput;
  accounting: Accounting;
  log: { malformed: number; truncated: boolean; hasSummary: boolean; warnings: string[] };
}

export interface Analysis<F> {
  figures: F;
  tables: Table[];
  charts: Chart[];
  warnings: string[];
}

/** Analyse one run; `threshold` is the return that counts as solved (steps-to-threshold). */
export function analyzeRun(run: RunData, threshold: number): Analysis<RunFigures> {
  const rows = lagTable(run.updates);
  const curve = learningCurve(run.updates, run.summary, threshold);
  const tp = throughput(run.updates, run.summary, run.actors);
  const acc = accounting(run.updates, run.summary);
  const c = run.config;
  const { points, ...curveRest } = curve;
  const figures: RunFigures = {
    dir: run.dir,
    config: c,
    lagTable: rows,
    curve: { ...curveRest, points: points.length },
    throughput: tp,
    accounting: acc,
    log: { malformed: run.malformed, truncated: run.truncated, hasSummary: run.summary !== null, warnings: run.warnings },
  };

  const tables: Table[] = [
    {
      title: `Run ${c.runId}: ${c.label}, lag ${c.lag}, env ${c.env}, seed ${c.seed}`,
      headers: ['field', 'value'],
      rows: [
        ['updates', String(run.updates.length)],
        ['env steps', num(tp.envSteps)],
        ['summary record', run.summary ? 'yes' : 'no (run did not finish)'],
        ['malformed lines skipped', String(run.malformed)],
        ['truncated last line', run.truncated ? 'yes (skipped)' : 'no'],
      ],
    },
    {
      title: 'Per lag bucket (sample-weighted over the run)',
      headers: ['lag', 'samples', 'ESS', 'ESS(g)', 'KL(mu||pi) k3', 'KL(pi||mu)', 'mean g', 'g w>1 A>0', 'g w>1 A<=0', 'g w<=1 A>0', 'g w<=1 A<=0'],
      rows: rows.map((r) => [
        r.bucket,
        String(r.n),
        num(r.ess),
        num(r.essG),
        num(r.klMuPiK3),
        num(r.klPiMu),
        num(r.meanG),
        num(r.quadrantG.wHighAPos),
        num(r.quadrantG.wHighANeg),
        num(r.quadrantG.wLowAPos),
        num(r.quadrantG.wLowANeg),
      ]),
    },
    {
      title: `Learning curve (${curve.source === 'eval' ? 'eval stochastic return' : 'behaviour return.mean100'})`,
      headers: ['figure', 'value'],
      rows: [
        ['final return', num(curve.finalReturn)],
        ['at env steps', num(curve.finalSteps)],
        [`steps to return >= ${threshold}`, curve.stepsToThreshold === null ? 'not reached' : num(curve.stepsToThreshold)],
        ['AUC (mean return over steps, trapezoid)', num(curve.auc)],
        ['curve points', String(points.length)],
      ],
    },
    {
      title: 'Throughput',
      headers: ['figure', 'value'],
      rows: [
        ['learner fps (mean over updates)', num(tp.learnerFpsMean)],
        ['overall fps (env steps / wall s)', num(tp.overallFps)],
        ['wall seconds', num(tp.wallSeconds)],
        ['actors', String(tp.actors)],
        ['actor fps (sum of per-actor means)', num(tp.actorFpsTotal)],
      ],
    },
    accountingTable(acc),
  ];
  const charts = [returnCurveChart(points), essByLagChart(rows), klByLagChart(rows), quadrantChart(rows), lagOverTimeChart(run.updates)];
  return { figures, tables, charts, warnings: run.warnings };
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
