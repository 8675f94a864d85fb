#!/usr/bin/env node
/**
 * The layer rule, checked over the import graph (run by `npm run lint`, and by a unit test).
 *
 *   model/  infra/            import no other project folder (infra: Node only)
 *   envs/                     model/, infra/
 *   protocol/                 model/, infra/, envs/
 *   actor/ learner/ analysis/ the stages: model/, infra/, envs/, protocol/ only, never each other
 *   deploy/ bench/            wire the stages: anything in the product
 *
 * An import is a static or dynamic `import`, an `export ... from`, a `new URL('...')` module path,
 * or a worker file named through infra/workerFile.ts (`workerFile('envs', 'evalWorker')`), which
 * loads a module by path and would otherwise hide the edge. A new top-level folder must be given
 * a row here before it can be imported. Usage: node scripts/check-layers.mjs [ROOT]; exit 1 and
 * one line per offending import when the rule is broken.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which folders each layer may import (its own folder is always allowed). */
export const LAYERS = {
  model: [],
  infra: [],
  envs: ['model', 'infra'],
  protocol: ['model', 'infra', 'envs'],
  actor: ['model', 'infra', 'envs', 'protocol'],
  learner: ['model', 'infra', 'envs', 'protocol'],
  analysis: ['model', 'infra', 'envs', 'protocol'],
  deploy: ['model', 'infra', 'envs', 'protocol', 'actor', 'learner', 'analysis', 'bench'],
  bench: ['model', 'infra', 'envs', 'protocol', 'actor', 'learner', 'analysis', 'deploy'],
};

const SPEC =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]|workerFile\(\s*['"]([\w-]+)['"]/g;

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import under `root` that breaks the rule, as `file -> folder/ (specifier)` lines. */
export function checkLayers(root) {
  const bad = [];
  for (const layer of Object.keys(LAYERS)) {
    const dir = path.join(root, layer);
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
    for (const file of sources(dir)) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(SPEC)) {
        let to;
        if (m[4] !== undefined) to = m[4];
        else {
          const spec = m[1] ?? m[2] ?? m[3];
          if (!spec.startsWith('.')) continue;
          to = path.relative(root, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
        }
        if (to === layer || to.startsWith('..')) continue;
        if (!(to in LAYERS)) {
          bad.push(`${rel} -> ${to}/ (a folder with no row in scripts/check-layers.mjs)`);
          continue;
        }
        if (!LAYERS[layer].includes(to))
          bad.push(`${rel} -> ${to}/ (${layer}/ may import ${LAYERS[layer].join(', ') || 'no other folder'})`);
      }
    }
  }
  return bad;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bad = checkLayers(path.resolve(process.argv[2] ?? '.'));
  for (const b of bad) console.error(`layers: ${b}`);
  if (bad.length) {
    console.error(`layers: ${bad.length} import(s) break the layer rule (see scripts/check-layers.mjs)`);
    process.exit(1);
  }
}
