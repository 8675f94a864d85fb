#!/usr/bin/env node
/**
 * Line coverage per top-level source folder, from the istanbul json-summary that
 * `npm run coverage` writes (coverage/coverage-summary.json). Usage:
 *   node scripts/coverage-by-folder.mjs [path/to/coverage-summary.json]
 * Prints one line per folder: covered / total lines and the percentage.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FOLDERS = ['infra', 'envs', 'protocol', 'model', 'actor', 'learner', 'analysis', 'deploy'];
const file = process.argv[2] ?? path.join(process.cwd(), 'coverage', 'coverage-summary.json');
let summary;
try {
  summary = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`coverage-by-folder: cannot read ${file} (${e.message}); run npm run coverage first`);
  process.exit(2);
}
const root = process.cwd();
const totals = new Map(FOLDERS.map((f) => [f, { covered: 0, total: 0 }]));
for (const [key, entry] of Object.entries(summary)) {
  if (key === 'total') continue;
  const rel = path.relative(root, key).split(path.sep);
  const t = totals.get(rel[0]);
  if (t) {
    t.covered += entry.lines.covered;
    t.total += entry.lines.total;
  }
}
const pct = (c, t) => (t === 0 ? 'n/a' : `${((100 * c) / t).toFixed(1)}%`);
console.log('line coverage by folder (unit tests):');
for (const [f, t] of totals) console.log(`  ${f.padEnd(9)} ${pct(t.covered, t.total).padStart(6)}  (${t.covered}/${t.total} lines)`);
const all = summary.total?.lines;
if (all) console.log(`  ${'all'.padEnd(9)} ${pct(all.covered, all.total).padStart(6)}  (${all.covered}/${all.total} lines)`);
