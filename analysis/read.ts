/**
 * Reading a run directory: `config.json`, `learner.ndjson` (update and summary records; with its
 * rotated segments `learner.<k>.ndjson.gz` first, read through protocol/logFiles.ts) and
 * `actor-<k>.ndjson`. Files are streamed line by line, so large logs are fine. A line that is
 * not JSON is counted as malformed and skipped; a last line without its newline that does not
 * parse (the writer was killed mid-line) is flagged as truncated and skipped. Neither is fatal.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileLines, logExists, logLines, type LineEnd } from '../protocol/logFiles.js';
import type { ObjectiveConfig } from '../protocol/objectiveConfig.js';
import { formatLag, lagSpecFrom } from '../protocol/lag.js';
import type { ActorRecord, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import { runDirEmpty, runDirMissing } from './errors.js';
import { methodLabel } from './conditions.js';

/**
 * The fields of `config.json` that analysis reads (the training side's full type is
 * deploy/config.ts `RunConfig`). `lag` is its label as `--lag` spells it (`formatLag`), whether
 * the file holds the typed form (newer runs) or the string (older runs).
 */
export interface RunConfig {
  runId: string;
  env: string;
  seed: number;
  /** 'none' | 'fixed:8' | 'uniform:2-6' | 'geometric:4'. */
  lag: string;
  /** Method label as reports show it (conditions.ts methodLabel), e.g. 'v5 floor=const', 'v5 floor=neg-is' or 'ppo'. */
  label: string;
  objective?: Partial<ObjectiveConfig>;
  steps?: number;
  /** train --target-return: a run whose evaluation reaches it (confirmed over the final-eval episodes) stops early. */
  targetReturn?: number | null;
  /** Entropy below which a policy worse than random is flagged collapsed. */
  collapseEntropy?: number;
  deterministic?: boolean;
  backend?: string;
  /** Gradient path: 'js' or 'tfjs'. */
  grad?: string;
  preset?: string | null;
}

/** What reading one NDJSON file found. */
export interface FileStats {
  path: string;
  /** Non-empty lines seen. */
  lines: number;
  /** Lines that parsed as JSON objects. */
  parsed: number;
  /** Lines that are not JSON objects (not counting a truncated last line). */
  malformed: number;
  /** Lines with a known `kind` but missing the fields analysis needs. */
  invalid: number;
  /** The last line had no newline and did not parse. */
  truncatedLast: boolean;
}

export interface RunData {
  dir: string;
  config: RunConfig;
  /** False when config.json was missing or unreadable and `config` holds fallbacks. */
  configFound: boolean;
  updates: UpdateRecord[];
  summary: SummaryRecord | null;
  actors: ActorRecord[];
  files: FileStats[];
  /** Totals over `files`. */
  malformed: number;
  truncated: boolean;
  /** One line per problem found (malformed lines, truncation, missing files). */
  warnings: string[];
}

/**
 * Stream `path` line by line, calling `onRecord` with each line that parses as a JSON object.
 * Resolves with the file's counts; rejects only when the file cannot be opened.
 */
export async function readNdjson(path: string, onRecord: (rec: Record<string, unknown>) => void): Promise<FileStats> {
  return readLines(path, fileLines, onRecord);
}

/**
 * Stream a rotated log (protocol/logFiles.ts): every segment of the log whose active file is
 * `activeFile`, oldest first, as one file; the counts carry the active file's path.
 */
export async function readNdjsonLog(activeFile: string, onRecord: (rec: Record<string, unknown>) => void): Promise<FileStats> {
  return readLines(activeFile, logLines, onRecord);
}

async function readLines(
  path: string,
  lines: (path: string, end: LineEnd) => AsyncIterable<string>,
  onRecord: (rec: Record<string, unknown>) => void,
): Promise<FileStats> {
  const end: LineEnd = { newline: true };
  const stats: FileStats = { path, lines: 0, parsed: 0, malformed: 0, invalid: 0, truncatedLast: false };
  // A bad line is held back one line: only once the next line arrives is it known not to be
  // the last (possibly truncated) line.
  let pendingBad = false;
  for await (const raw of lines(path, end)) {
    const line = raw.trim();
    if (line === '') continue;
    stats.lines++;
    if (pendingBad) stats.malformed++;
    pendingBad = false;
    const rec = parseObject(line);
    if (rec === null) {
      pendingBad = true;
      continue;
    }
    stats.parsed++;
    onRecord(rec);
  }
  if (pendingBad) {
    if (end.newline) stats.malformed++;
    else stats.truncatedLast = true;
  }
  return stats;
}

/**
 * Read a whole run directory. Rejects with an AnalysisError naming `dir` when it does not exist,
 * cannot be listed, or holds neither config.json nor learner.ndjson.
 */
export async function readRun(dir: string): Promise<RunData> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    names = await readdir(dir);
  } catch (err) {
    throw runDirMissing(dir, err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err));
  }
  const learnerLog = join(dir, 'learner.ndjson');
  if (!names.includes('config.json') && !logExists(learnerLog, names)) throw runDirEmpty(dir);

  const warnings: string[] = [];
  const updates: UpdateRecord[] = [];
  const actors: ActorRecord[] = [];
  let summary: SummaryRecord | null = null;
  const files: FileStats[] = [];

  if (logExists(learnerLog, names)) {
    let invalid = 0;
    // Rotated segments (learner.<k>.ndjson.gz) first, then learner.ndjson: one run.
    const fs = await readNdjsonLog(learnerLog, (rec) => {
      if (rec.kind === 'update') {
        if (isUpdate(rec)) updates.push(rec);
        else invalid++;
      } else if (rec.kind === 'resume' && typeof rec.fromVersion === 'number') {
        // A resumed run: updates logged after its checkpoint were lost with the crash (their
        // versions are never reused); the run continues from the checkpoint's version.
        const from = rec.fromVersion;
        for (let i = updates.length - 1; i >= 0; i--) if (updates[i].version > from) updates.splice(i, 1);
      } else if (rec.kind === 'summary') {
        if (isSummary(rec)) summary = rec;
        else invalid++;
      }
    });
    fs.invalid = invalid;
    files.push(fs);
  } else {
    warnings.push(`${learnerLog}: missing; no update records`);
  }
  const actorFiles = names.filter((n) => /^actor-\d+\.ndjson$/.test(n)).sort(byNumber);
  for (const name of actorFiles) {
    let invalid = 0;
    const fs = await readNdjson(join(dir, name), (rec) => {
      if (rec.kind !== 'actor') return;
      if (isActor(rec)) actors.push(rec);
      else invalid++;
    });
    fs.invalid = invalid;
    files.push(fs);
  }
  for (const f of files) {
    if (f.malformed > 0) warnings.push(`${f.path}: ${f.malformed} malformed line(s) skipped`);
    if (f.invalid > 0) warnings.push(`${f.path}: ${f.invalid} record(s) missing required fields skipped`);
    if (f.truncatedLast) warnings.push(`${f.path}: truncated last line skipped (writer stopped mid-line)`);
  }
  updates.sort((a, b) => a.version - b.version);

  const { config, found } = await readConfig(dir, names.includes('config.json'), updates, warnings);
  return {
    dir,
    config,
    configFound: found,
    updates,
    summary,
    actors,
    files,
    malformed: files.reduce((s, f) => s + f.malformed, 0),
    truncated: files.some((f) => f.truncatedLast),
    warnings,
  };
}

/** True when `dir` looks like a run directory (has config.json, or learner.ndjson or a rotated segment of it). */
export async function isRunDir(dir: string): Promise<boolean> {
  try {
    const names = await readdir(dir);
    return names.includes('config.json') || logExists(join(dir, 'learner.ndjson'), names);
  } catch {
    return false;
  }
}

/** A config.json's lag as `--lag` spells it: newer runs save the typed form, older ones the string. */
function lagLabel(x: unknown): string | null {
  if (typeof x === 'string') return x;
  const spec = lagSpecFrom(x);
  return spec ? formatLag(spec) : null;
}

async function readConfig(
  dir: string,
  exists: boolean,
  updates: UpdateRecord[],
  warnings: string[],
): Promise<{ config: RunConfig; found: boolean }> {
  const fallback: RunConfig = {
    runId: updates[0]?.runId ?? basename(dir),
    env: 'unknown',
    seed: 0,
    lag: 'unknown',
    label: updates[0]?.method !== undefined ? methodLabel(updates[0].method, null) : 'unknown',
  };
  const path = join(dir, 'config.json');
  if (!exists) {
    warnings.push(`${path}: missing; label and lag taken from the log`);
    return { config: fallback, found: false };
  }
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Omit<Partial<RunConfig>, 'lag'> & { lag?: unknown };
    const method = raw.objective?.method;
    return {
      config: {
        ...fallback,
        ...raw,
        runId: typeof raw.runId === 'string' ? raw.runId : fallback.runId,
        lag: lagLabel(raw.lag) ?? fallback.lag,
        label: methodLabel(typeof raw.label === 'string' ? raw.label : (method ?? fallback.label), raw.objective),
        seed: typeof raw.seed === 'number' ? raw.seed : 0,
      },
      found: true,
    };
  } catch (err) {
    warnings.push(`${path}: unreadable (${err instanceof Error ? err.message : String(err)}); using fallbacks`);
    return { config: fallback, found: false };
  }
}

function parseObject(line: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isUpdate(r: Record<string, unknown>): r is Record<string, unknown> & UpdateRecord {
  return isNum(r.version) && isNum(r.envSteps) && isNum(r.samples) && isObj(r.lag) && isObj(r.lagBuckets) && isObj(r.return);
}

function isSummary(r: Record<string, unknown>): r is Record<string, unknown> & SummaryRecord {
  return isNum(r.envSteps) && isNum(r.trained) && isNum(r.dropped);
}

function isActor(r: Record<string, unknown>): r is Record<string, unknown> & ActorRecord {
  return isNum(r.actorId) && isNum(r.fps);
}

function byNumber(a: string, b: string): number {
  return Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));
}

/**
 * Expand command-line paths into run directories: a run directory stays as is; any other
 * directory contributes its immediate subdirectories that are run directories (a sweep's
 * output). Rejects with an AnalysisError naming a path that cannot be read or holds no runs.
 */
export async function findRunDirs(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (await isRunDir(p)) {
      out.push(p);
      continue;
    }
    let names: string[];
    try {
      if (!(await stat(p)).isDirectory()) throw new Error('not a directory');
      names = await readdir(p);
    } catch (err) {
      throw runDirMissing(p, err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err));
    }
    const subs: string[] = [];
    for (const n of names.sort()) if (await isRunDir(join(p, n))) subs.push(join(p, n));
    if (subs.length === 0) throw runDirEmpty(p);
    out.push(...subs);
  }
  return out;
}
