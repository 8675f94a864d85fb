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
export const golden = JSON.parse(readFileSync(path, 'utf8')) as { weights: GoldenCase[]; batches: GoldenBatch[] };

/** The config of one golden case: defaults overridden by its params. */
export function configOf(c: GoldenCase): ObjectiveConfig {
  return { ...DEFAULT_OBJECTIVE, ...c.params, method: c.method };
}

/** A readable test name for a case. */
export function caseName(c: GoldenCase): string {
  const extra = c.gammaEss !== undefined ? { gammaEss: c.gammaEss } : {};
  return `${c.method} ${JSON.stringify({ ...c.params, ...extra })}`;
}
