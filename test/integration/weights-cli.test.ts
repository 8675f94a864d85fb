import { ensureBuilt } from '../helpers/cli.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METHODS } from '../../protocol/objectiveConfig.js';
import { caseName, golden, type GoldenCase } from '../unit/learner/golden.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/deploy/cli.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'weights', ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FLAG: Record<string, string> = {
  tauH: '--tau-h',
  tauC: '--tau-c',
  gammaBase: '--gamma-base',
  gammaMax: '--gamma-max',
  gamma: '--gamma',
  trust: '--trust',
  floor: '--floor',
};

/** The CLI flags of a golden case's params. */
function flagsOf(c: GoldenCase): string[] {
  const out = ['--method', c.method];
  for (const [k, v] of Object.entries(c.params)) {
    if (k === 'sftTrust') {
      if (v === true) out.push('--sft-trust');
    } else {
      const flag = FLAG[k];
      if (!flag) throw new Error(`test has no flag for golden param ${k}`);
      out.push(flag, String(v));
    }
  }
  if (c.gammaEss !== undefined) out.push('--gamma-ess', String(c.gammaEss));
  return out;
}

beforeAll(() => ensureBuilt(), 300_000);

describe('isreshape weights (no flags)', () => {
  it('prints the four-quadrant table and every method', () => {
    const r = run([]);
    expect(r.status).toBe(0);
    for (const v of ['1.210', '1.182', '0.664', '0.806', '0.367', '0.700', '0.633']) expect(r.stdout).toContain(v);
    for (const m of METHODS) expect(r.stdout).toMatch(new RegExp(`^${m.replace('.', '\\.')}\\s+\\+1`, 'm'));
  });
});

describe('machine contract reproduces every golden row within 1e-6', () => {
  for (const c of golden.weights) {
    it(caseName(c), () => {
      const ws = [...new Set(c.rows.map((r) => r[0]))];
      const as = [...new Set(c.rows.map((r) => r[1]))];
      const r = run([...flagsOf(c), '--w', ws.join(','), '--a', as.join(','), '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const got = JSON.parse(lines[0]) as { w: number; A: number; g: number }[];
      expect(got).toHaveLength(ws.length * as.length);
      // w outer, A inner.
      got.forEach((row, i) => {
        expect(row.w).toBe(ws[Math.floor(i / as.length)]);
        expect(row.A).toBe(as[i % as.length]);
      });
      for (const [w, A, g] of c.rows) {
        const row = got.find((x) => x.w === w && x.A === A);
        expect(row, `w=${w} A=${A}`).toBeDefined();
        expect(Math.abs((row?.g ?? NaN) - g), `w=${w} A=${A}`).toBeLessThanOrEqual(1e-6);
      }
    });
  }
});

describe('--stats reproduces the golden batches', () => {
  for (const b of golden.batches) {
    it(`w = ${JSON.stringify(b.w)}`, () => {
      const r = run(['--stats', '--w', b.w.join(','), '--ess-min', '0.5', '--json']);
      expect(r.status).toBe(0);
      const got = JSON.parse(r.stdout) as Record<string, number>;
      expect(Object.keys(got).sort()).toEqual(['ess', 'gammaEss', 'k1', 'k3', 'klPiMu']);
      for (const k of ['ess', 'k1', 'k3', 'klPiMu', 'gammaEss'] as const) {
        expect(Math.abs(got[k] - b[k]), k).toBeLessThanOrEqual(1e-9 * Math.abs(b[k]) + 1e-15);
      }
    });
  }
});

describe('bad input exits 2 with one line naming the flag and the value', () => {
  const cases: [string[], RegExp][] = [
    [['--method', 'foo', '--w', '1', '--a', '1', '--json'], /--method: 'foo'/],
    [['--method', 'v5', '--w', '0.5,0', '--a', '1', '--json'], /--w: 0 in '0.5,0'/],
    [['--method', 'v5', '--w', '1', '--a', '1', '--tau-h', 'abc', '--json'], /--tau-h: 'abc'/],
    [['--method', 'v5', '--w', '1', '--a', '1', '--trust', 'cubic', '--json'], /--trust: 'cubic'/],
    [['--method', 'v5', '--w', '1', '--a'], /following: a/],
  ];
  for (const [args, re] of cases) {
    it(args.join(' '), () => {
      const r = run(args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(re);
    });
  }
});

describe('--plot', () => {
  it('writes an SVG with one curve per method and sign of A, and a legend', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isreshape-weights-'));
    try {
      const file = join(dir, 'g.svg');
      const r = run(['--plot', file, '--method', 'v5,ppo,sapo']);
      expect(r.status).toBe(0);
      const svg = readFileSync(file, 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<path d="M[\d.]+,[\d.]+ L/g)).toHaveLength(6);
      for (const m of ['v5', 'ppo', 'sapo']) expect(svg).toContain(`>${m}</text>`);
      expect(svg).not.toContain('NaN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
