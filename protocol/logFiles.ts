/**
 * The one reader of a role's NDJSON log across rotation (deploy/rotatingLog.ts). A log named
 * by its active file `<dir>/<stem>.ndjson` (e.g. runs/x/learner.ndjson) is, oldest first, the
 * rotated segments `<stem>.<k>.ndjson.gz` (k = 1, 2, ...), then the active file. A segment whose
 * compression had not finished (a crash, or the process still compressing it) is still there as
 * `<stem>.<k>.ndjson`; when both exist the .gz is complete (it is renamed into place only after
 * it is fsynced) and is the one read. Temporary `.gz.tmp` files are never read.
 */
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gunzipSync } from 'node:zlib';

/** One file of a log, in reading order. */
export interface LogSegment {
  path: string;
  /** The segment number (1 = oldest), or null for the active file. */
  k: number | null;
  gz: boolean;
}

/** The stem of an active log file: `learner` for `.../learner.ndjson`. */
export function logStem(activeFile: string): string {
  const name = basename(activeFile);
  return name.endsWith('.ndjson') ? name.slice(0, -'.ndjson'.length) : name;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The rotated segments of the log whose active file is `activeFile`, by k, each once (the .gz
 * when it exists, else the uncompressed segment). `names` is the directory's listing when the
 * caller has it.
 */
export function rotatedSegments(activeFile: string, names?: readonly string[]): LogSegment[] {
  const dir = dirname(activeFile);
  let list = names;
  if (list === undefined) {
    try {
      list = readdirSync(dir);
    } catch {
      return [];
    }
  }
  const re = new RegExp(`^${escapeRe(logStem(activeFile))}\\.(\\d+)\\.ndjson(\\.gz)?$`);
  const byK = new Map<number, LogSegment>();
  for (const n of list) {
    const m = re.exec(n);
    if (!m) continue;
    const k = Number(m[1]);
    const gz = m[2] !== undefined;
    const seen = byK.get(k);
    if (!seen || (gz && !seen.gz)) byK.set(k, { path: join(dir, n), k, gz });
  }
  return [...byK.values()].sort((a, b) => a.k! - b.k!);
}

/** Every file of the log, in order: rotated segments by k, then the active file when it exists. */
export function logSegments(activeFile: string, names?: readonly string[]): LogSegment[] {
  const out = rotatedSegments(activeFile, names);
  const active = names === undefined ? existsSync(activeFile) : names.includes(basename(activeFile));
  if (active) out.push({ path: activeFile, k: null, gz: false });
  return out;
}

/** True when the log has any file (the active one or a rotated segment). */
export function logExists(activeFile: string, names?: readonly string[]): boolean {
  return logSegments(activeFile, names).length > 0;
}

/** How the last file read ended: `newline` false when its last line had no newline. */
export interface LineEnd {
  newline: boolean;
}

/**
 * The lines of one file (gunzipped when it ends in .gz), without their newline; a last line
 * without a newline is yielded too and reported in `end`.
 */
export async function* fileLines(file: string, end?: LineEnd): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  if (input !== raw) raw.on('error', (e) => input.destroy(e));
  const dec = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const text = rest + dec.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) yield l.endsWith('\r') ? l.slice(0, -1) : l;
  }
  rest += dec.end();
  if (end) end.newline = rest === '';
  if (rest !== '') yield rest;
}

/** The lines of every file of the log, in order (see `fileLines`; `end` reports on the last file). */
export async function* logLines(activeFile: string, end?: LineEnd): AsyncGenerator<string> {
  if (end) end.newline = true;
  for (const s of logSegments(activeFile)) yield* fileLines(s.path, end);
}

/** The whole text of one file, gunzipped when it ends in .gz (synchronous). */
export function fileTextSync(file: string): string {
  const buf = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

/**
 * The lines of every file of the log, in order, read synchronously file by file (resume, tests).
 * A file is held in memory whole, so this suits segments of bounded size.
 */
export function* logLinesSync(activeFile: string): Generator<string> {
  for (const s of logSegments(activeFile)) {
    const lines = fileTextSync(s.path).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const l of lines) yield l.endsWith('\r') ? l.slice(0, -1) : l;
  }
}
