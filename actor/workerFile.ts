/**
 * Where a worker thread's compiled module lives. Worker threads load JavaScript, so when this
 * code runs from TypeScript sources (vitest) the path is mapped to the build in `dist/`
 * (`npm run build` first; `npm test` does).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of `dist/actor/<name>.js` for a module in actor/. */
export function actorWorkerFile(name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, `${name}.js`);
  if (existsSync(beside)) return beside;
  const built = path.join(here, '..', 'dist', 'actor', `${name}.js`);
  if (existsSync(built)) return built;
  throw new Error(`worker module ${name}.js not found beside ${here} or in dist/actor; run npm run build first`);
}
