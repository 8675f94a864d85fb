/**
 * `npm run findings -- --report-only` (deploy/findings/cli.ts, built) regenerates FINDINGS.md
 * and findings.html from a results file alone, byte for byte: on the small fixture
 * (test/fixtures/findings-results.ndjson, synthetic values), and on the committed
 * docs/findings/results.ndjson against the committed docs/FINDINGS.md and docs/findings.html.
 * The HTML opens in headless Chromium with every chart drawn and nothing on the console; the
 * screenshot goes to test-output/findings.png (docs/findings.png is a copy of it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/cli.js';
import { CHROMIUM, chromium } from '../helpers/chromium.js';

const FINDINGS = join(ROOT, 'dist/deploy/findings/cli.js');
const FIXTURE = join(ROOT, 'test/fixtures/findings-results.ndjson');
const OUT = resolve(import.meta.dirname, '../../test-output');

function reportOnly(results: string, dir: string): { md: string; html: string; out: string } {
  const md = join(dir, 'FINDINGS.md');
  const html = join(dir, 'findings.html');
  const r = spawnSync(process.execPath, [FINDINGS, '--report-only', '--results', results, '--markdown', md, '--html', html], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return { md, html, out: r.stdout };
}

describe('npm run findings -- --report-only', () => {
  it('regenerates the same bytes from the same results file (fixture), and the HTML draws every chart in Chromium', () => {
    ensureBuilt();
    const a = reportOnly(FIXTURE, mkdtempSync(join(tmpdir(), 'isr-findings-a-')));
    const b = reportOnly(FIXTURE, mkdtempSync(join(tmpdir(), 'isr-findings-b-')));
    expect(a.out).toMatch(/report from 58 run\(s\)/);
    expect(readFileSync(a.md, 'utf8')).toBe(readFileSync(b.md, 'utf8'));
    expect(readFileSync(a.html)).toEqual(readFileSync(b.html));
    const html = readFileSync(a.html, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/|<link|src=/i);
    const charts = Number(/\((\d+) charts\)/.exec(a.out)![1]);
    expect(charts).toBeGreaterThanOrEqual(4); // heat map, collapse map, profile for CartPole; grid 2's map

    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/ensure-chromium.sh`).toBe(true);
    const dom = chromium(a.html, ['--dump-dom']);
    expect(dom.status).toBe(0);
    expect(dom.console).toEqual([]);
    expect((dom.stdout.match(/<svg[\s>]/g) ?? []).length).toBe(charts);
    for (const name of ['heat-cartpole-impala', 'collapse-cartpole-impala', 'profile-cartpole-impala', 'collapse-grid2'])
      expect(dom.stdout).toContain(`data-chart="${name}"`);
  });

  it('reproduces the committed docs/FINDINGS.md and docs/findings.html exactly from docs/findings/results.ndjson, and screenshots the HTML', () => {
    ensureBuilt();
    const r = reportOnly(join(ROOT, 'docs/findings/results.ndjson'), mkdtempSync(join(tmpdir(), 'isr-findings-docs-')));
    expect(readFileSync(r.md, 'utf8'), 'docs/FINDINGS.md is stale: run npm run findings -- --report-only').toBe(
      readFileSync(join(ROOT, 'docs/FINDINGS.md'), 'utf8'),
    );
    expect(readFileSync(r.html, 'utf8') === readFileSync(join(ROOT, 'docs/findings.html'), 'utf8'), 'docs/findings.html is stale').toBe(
      true,
    );

    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'findings.png');
    const s = chromium(join(ROOT, 'docs/findings.html'), [`--screenshot=${shot}`, '--window-size=1280,2400']);
    expect(s.status).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });
});
