/**
 * Where a worker thread's compiled module lives: the one resolver for every worker (actor slots,
 * the evaluator, gradient shards). Worker threads load JavaScript, so when this code runs from
 * TypeScript sources (vitest) the path is mapped to the build in `dist/`, and a build older than
 * any source file is refused: a worker test must never run yesterday's code (`npm run build`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when this module runs from dist/ (compiled), false when it runs from the TypeScript sources. */
const compiled = existsSync(path.join(here, 'workerFile.js'));
const root = compiled ? path.join(here, '..', '..') : path.join(here, '..');
/** Folders whose sources a worker may load (its own and the layers below). */
const SOURCE_DIRS = ['model', 'protocol', 'envs', 'infra', 'actor', 'learner'];

let newestSourceMs: number | null = null;
function newestSource(): number {
  if (newestSourceMs !== null) return newestSourceMs;
  let newest = 0;
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(root, d));
  return (newestSourceMs = newest);
}

/**
 * Absolute path of the compiled worker module `<folder>/<name>.js` (folder relative to the
 * project root, e.g. 'actor', 'envs', 'learner'). From sources, the build in dist/ is used and
 * must be newer than every source file; the error says to run `npm run build`.
 */
export function workerFile(folder: string, name: string): string {
  if (compiled) {
    const p = path.join(here, '..', folder, `${name}.js`);
    if (existsSync(p)) return p;
    throw new Error(`worker module ${folder}/${name}.js not found in ${path.join(here, '..')}; run npm run build`);
  }
  const built = path.join(root, 'dist', folder, `${name}.js`);
  if (!existsSync(built)) throw new Error(`worker module dist/${folder}/${name}.js not found; run npm run build first`);
  const builtMs = statSync(built).mtimeMs;
  if (builtMs < newestSource())
    throw new Error(`worker module dist/${folder}/${name}.js is older than the sources (stale build); run npm run build`);
  return built;
}
