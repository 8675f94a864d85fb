/**
 * The one worker-file resolver (infra/workerFile.ts), on a copy of it in a temporary project:
 * run from sources it finds dist/<folder>/<name>.js, refuses a build older than any source file
 * (a worker test must never run stale code), and names the missing file otherwise.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temporary project with infra/workerFile.ts, one source file and (optionally) its build; returns the resolver. */
async function project(opts: { built: boolean; sourceNewer: boolean }): Promise<(folder: string, name: string) => string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isr-workerfile-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'infra'));
  mkdirSync(path.join(dir, 'envs'));
  copyFileSync(path.join(ROOT, 'infra', 'workerFile.ts'), path.join(dir, 'infra', 'workerFile.ts'));
  const src = path.join(dir, 'envs', 'evalWorker.ts');
  writeFileSync(src, 'export {};\n');
  const old = new Date(Date.now() - 3600_000);
  const now = new Date();
  utimesSync(path.join(dir, 'infra', 'workerFile.ts'), old, old);
  if (opts.built) {
    mkdirSync(path.join(dir, 'dist', 'envs'), { recursive: true });
    const built = path.join(dir, 'dist', 'envs', 'evalWorker.js');
    writeFileSync(built, 'export {};\n');
    utimesSync(built, opts.sourceNewer ? old : now, opts.sourceNewer ? old : now);
  }
  utimesSync(src, opts.sourceNewer ? now : old, opts.sourceNewer ? now : old);
  const mod = (await import(path.join(dir, 'infra', 'workerFile.ts'))) as { workerFile: (f: string, n: string) => string };
  return mod.workerFile;
}

describe('workerFile', () => {
  it('resolves the build in dist/ when it is newer than every source', async () => {
    const workerFile = await project({ built: true, sourceNewer: false });
    expect(workerFile('envs', 'evalWorker')).toMatch(/dist\/envs\/evalWorker\.js$/);
  });

  it('refuses a stale build, saying to run npm run build', async () => {
    const workerFile = await project({ built: true, sourceNewer: true });
    expect(() => workerFile('envs', 'evalWorker')).toThrow(/older than the sources \(stale build\); run npm run build/);
  });

  it('names a missing build', async () => {
    const workerFile = await project({ built: false, sourceNewer: false });
    expect(() => workerFile('envs', 'evalWorker')).toThrow(/dist\/envs\/evalWorker\.js not found; run npm run build first/);
  });
});
