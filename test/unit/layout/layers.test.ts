/**
 * The layer rule over the real import graph (scripts/check-layers.mjs): the tree as committed
 * passes, and a copy with one deliberately wrong import of each kind fails naming it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-layers.mjs');
const FOLDERS = ['model', 'infra', 'envs', 'protocol', 'actor', 'learner', 'analysis', 'deploy', 'bench'];

interface Checker {
  checkLayers(root: string): string[];
}
const { checkLayers } = (await import(SCRIPT)) as Checker;

const copy = mkdtempSync(path.join(tmpdir(), 'isr-layers-'));
for (const f of FOLDERS) cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function withFile(rel: string, body: string): string[] {
  const file = path.join(copy, rel);
  writeFileSync(file, body);
  try {
    return checkLayers(copy);
  } finally {
    rmSync(file);
  }
}

describe('layer rule', () => {
  it('the committed tree breaks no rule (the CLI exits 0)', () => {
    expect(checkLayers(ROOT)).toEqual([]);
    const r = spawnSync(process.execPath, [SCRIPT, ROOT], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('the copy of the tree passes before any change', () => {
    expect(checkLayers(copy)).toEqual([]);
  });

  it('a stage importing a peer stage fails, naming file and folder (the CLI exits 1)', () => {
    const file = path.join(copy, 'actor', 'wrong.ts');
    writeFileSync(file, "import { Learner } from '../learner/learner.js';\nexport const x = Learner;\n");
    try {
      expect(checkLayers(copy)).toEqual(['actor/wrong.ts -> learner/ (actor/ may import model, infra, envs, protocol)']);
      const r = spawnSync(process.execPath, [SCRIPT, copy], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('actor/wrong.ts -> learner/');
    } finally {
      rmSync(file);
    }
  });

  it('analysis importing actor, protocol importing a stage, envs importing protocol: each fails', () => {
    expect(withFile('analysis/wrong.ts', "export { sampleLag } from '../actor/lagX.js';\n")).toHaveLength(1);
    expect(withFile('protocol/wrong.ts', "import type { Learner } from '../learner/learner.js';\n")[0]).toMatch(
      /^protocol\/wrong\.ts -> learner\//,
    );
    expect(withFile('envs/wrong.ts', "const m = await import('../protocol/codec.js');\nexport default m;\n")[0]).toMatch(
      /^envs\/wrong\.ts -> protocol\//,
    );
  });

  it('a worker file loaded by path counts as an import', () => {
    const bad = withFile(
      'learner/wrong.ts',
      "import { workerFile } from '../infra/workerFile.js';\nexport const f = workerFile('actor', 'worker');\n",
    );
    expect(bad).toEqual(['learner/wrong.ts -> actor/ (learner/ may import model, infra, envs, protocol)']);
  });

  it('a new top-level folder must be given a row before it is imported', () => {
    expect(withFile('learner/wrong.ts', "import { x } from '../newlayer/x.js';\nexport const y = x;\n")[0]).toContain('no row');
  });
});
