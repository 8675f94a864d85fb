/**
 * Public API of the analysis layer (package subpath `isreshape/analysis`): reading run
 * directories, the per-run tables and figures, the comparison across runs with its
 * statistics, and plain-text / HTML table rendering. Chart specs are vega-lite objects; the
 * SVG/PNG report writer (`isreshape analyze`) is not part of this entry, so importing it does
 * not load vega or resvg.
 */
export { readRun, readNdjson, readNdjsonLog, isRunDir, findRunDirs, type RunData, type RunConfig, type FileStats } from './read.js';
export { logSegments, logLines, logLinesSync, logExists, type LogSegment } from '../protocol/logFiles.js';
export { AnalysisError, type AnalysisErrorCode } from './errors.js';
export { analyzeRun, type Analysis, type RunFigures } from './analyzeRun.js';
export { compareRuns, lagSortKey, seedBand, interpolate, type CompareFigures, type GroupFigures, type RunPoint } from './compare.js';
export { sequenceFigures, teacherShare, type SequenceFigures, type SequenceRow, type SequenceBest, type RateCI } from './sequence.js';
export {
  DEFAULT_THRESHOLD,
  QUADRANT_KEYS,
  lagTable,
  learningCurve,
  primarySeries,
  trapezoidMean,
  throughput,
  accounting,
  weightedMean,
  type QuadrantKey,
  type LagRow,
  type CurvePoint,
  type CurveSummary,
  type Throughput,
  type Accounting,
} from './tables.js';
export {
  ENV_THRESHOLDS,
  SEQ_THRESHOLD,
  envThreshold,
  resolveThreshold,
  thresholdsFor,
  thresholdText,
  type Threshold,
  type GivenThreshold,
} from './thresholds.js';
export { runOutcome, trainQuadrantTable, type RunOutcome, type TrainQuadrantRow, type TrainQuadrantSummary } from './outcome.js';
export {
  ALPHA,
  TIE_TEST_NAME,
  mean,
  sampleVariance,
  meanCI,
  welchTest,
  rankWithTies,
  type MeanCI,
  type WelchResult,
  type RankRow,
} from './stats.js';
export { renderText, renderHtml, type Table } from './format.js';
export type { Chart } from './charts.js';
export type {
  UpdateRecord,
  SummaryRecord,
  ActorRecord,
  LogRecord,
  Quadrants,
  QuadrantStat,
  LagBucketLabel,
  LagBucketStat,
  EvalStat,
  MinMeanMax,
} from '../protocol/records.js';
export { LAG_BUCKETS } from '../protocol/records.js';
export { openRuns, formatRows, SQL_VIEWS, type RunsDb } from './sql.js';
