/** Typed access to the golden vectors of docs/METHODS.md section 6 (copied into test/fixtures). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OBJECTIVE, type ObjectiveConfig, type MethodName } from '../../../protocol/objectiveConfig.js';

export interface GoldenCase {
  method: MethodName;
  params: Partial<ObjectiveConfig>;
  gammaEss?: number;
  rows: [number, number, number][];
}
export interface GoldenBatch {
  w: number[];
  ess: number;
  k1: number;
  k3: number;
  klPiMu: number;
  gammaEss: number;
}

const path = fileURLToPath(new URL('../../fixtures/weights.json', import.meta.url));
const spec = JSON.parse(readFileSync(path, 'utf8')) as { weights: GoldenCase[]; batches: GoldenBatch[] };

/**
 * `floor = max1` (docs/METHODS.md section 2.3) is not in the spec's vectors: its golden values
 * come from a second, independent implementation (test/fixtures/gen-floor-max1.py, numpy).
 */
export const goldenMax1 = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/floor-max1.json', import.meta.url)), 'utf8')) as {
  weights: GoldenCase[];
};

/** Every golden case: the spec's (weights.json) and the max1 floor's (floor-max1.json). */
export const golden = { weights: [...spec.weights, ...goldenMax1.weights], batches: spec.batches };

/** The config of one golden case: defaults overridden by its params. */
export function configOf(c: GoldenCase): ObjectiveConfig {
  return { ...DEFAULT_OBJECTIVE, ...c.params, method: c.method };
}

/** A readable test name for a case. */
export function caseName(c: GoldenCase): string {
  const extra = c.gammaEss !== undefined ? { gammaEss: c.gammaEss } : {};
  return `${c.method} ${JSON.stringify({ ...c.params, ...extra })}`;
}
