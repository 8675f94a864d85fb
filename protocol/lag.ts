/**
 * Lag injection for stress tests: which behaviour version an actor acts with. The actor takes
 * the newest version it holds minus K, clamped at 0, where K comes from the schedule:
 * `none` (K = 0), `fixed:K`, `uniform:K1-K2` (integer uniform) or `geometric:MEAN`
 * (K >= 0 with mean MEAN). Natural lag from asynchrony adds to it and is measured by the learner.
 */
import type { Rng } from '../model/rng.js';

export type LagSpec =
  { kind: 'none' } | { kind: 'fixed'; k: number } | { kind: 'uniform'; lo: number; hi: number } | { kind: 'geometric'; mean: number };

/** Parse a schedule; null when `s` is not one of the accepted forms. */
export function parseLagSpec(s: string): LagSpec | null {
  if (s === 'none') return { kind: 'none' };
  const m = /^(fixed|uniform|geometric):(.+)$/.exec(s);
  if (!m) return null;
  if (m[1] === 'fixed') return /^\d+$/.test(m[2]) ? { kind: 'fixed', k: Number(m[2]) } : null;
  if (m[1] === 'uniform') {
    const r = /^(\d+)-(\d+)$/.exec(m[2]);
    return r && Number(r[1]) <= Number(r[2]) ? { kind: 'uniform', lo: Number(r[1]), hi: Number(r[2]) } : null;
  }
  const mean = Number(m[2]);
  return Number.isFinite(mean) && mean > 0 ? { kind: 'geometric', mean } : null;
}

/** The schedule as `--lag` spells it: the one formatter for labels, run ids and echoes. */
export function formatLag(spec: LagSpec): string {
  switch (spec.kind) {
    case 'none':
      return 'none';
    case 'fixed':
      return `fixed:${spec.k}`;
    case 'uniform':
      return `uniform:${spec.lo}-${spec.hi}`;
    case 'geometric':
      return `geometric:${spec.mean}`;
  }
}

/**
 * A schedule from its string form or from the typed form a config.json holds (older run dirs
 * saved the string); null when `x` is neither. Object forms are checked as strictly as strings.
 */
export function lagSpecFrom(x: unknown): LagSpec | null {
  if (typeof x === 'string') return parseLagSpec(x.trim());
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  const nat = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (o.kind === 'none') return { kind: 'none' };
  if (o.kind === 'fixed' && nat(o.k)) return { kind: 'fixed', k: o.k };
  if (o.kind === 'uniform' && nat(o.lo) && nat(o.hi) && o.lo <= o.hi) return { kind: 'uniform', lo: o.lo, hi: o.hi };
  if (o.kind === 'geometric' && typeof o.mean === 'number' && Number.isFinite(o.mean) && o.mean > 0)
    return { kind: 'geometric', mean: o.mean };
  return null;
}

/** Largest lag a schedule asks for (geometric: its 99.9% quantile). */
export function maxLagOf(spec: LagSpec): number {
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'fixed':
      return spec.k;
    case 'uniform':
      return spec.hi;
    case 'geometric':
      return Math.ceil(spec.mean * Math.log(1000)) + 1;
  }
}

/** Draw K for one segment. */
export function sampleLag(spec: LagSpec, rng: Rng): number {
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'fixed':
      return spec.k;
    case 'uniform':
      return spec.lo + rng.int(spec.hi - spec.lo + 1);
    case 'geometric': {
      // Geometric on {0, 1, ...} with mean m: success probability p = 1 / (1 + m).
      const p = 1 / (1 + spec.mean);
      const u = Math.max(rng.uniform(), 1e-12);
      return Math.min(Math.floor(Math.log(u) / Math.log(1 - p)), maxLagOf(spec));
    }
  }
}
