/**
 * `npm run findings` (deploy/findings/cli.ts) without training: --help, --report-only from the
 * committed results fixture (real markdown and HTML files written), and --dry-run over an empty
 * and a partly filled results file.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFindingsArgs, runFindings, USAGE } from '../../../deploy/findings/cli.js';
import { findingsCells } from '../../../deploy/findings/grids.js';
import { tmp } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/findings-results.ndjson', import.meta.url));

async function said(argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  await runFindings(parseFindingsArgs(argv), (s) => lines.push(s));
  return lines;
}

describe('runFindings without training', () => {
  it('--help prints the usage and does nothing else', async () => {
    expect(await said(['--help'])).toEqual([USAGE.trimEnd()]);
  });

  it('--report-only writes the markdown and HTML report from the results file alone', async () => {
    const dir = tmp('isr-find-');
    const results = join(dir, 'results.ndjson');
    copyFileSync(FIXTURE, results);
    const runs = readFileSync(FIXTURE, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    const md = join(dir, 'docs', 'FINDINGS.md');
    const html = join(dir, 'docs', 'findings.html');
    const lines = await said(['--report-only', '--results', results, '--markdown', md, '--html', html]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^findings: report from ${runs} run\\(s\\): ${md}, ${html} \\(\\d+ charts\\)$`));
    expect(readFileSync(md, 'utf8').length).toBeGreaterThan(100);
    expect(readFileSync(html, 'utf8')).toMatch(/<html/i);
  }, 60_000);

  it('--dry-run lists every planned cell of the chosen grid when none is done, and one fewer after one result', async () => {
    const dir = tmp('isr-find-');
    const results = join(dir, 'results.ndjson');
    const out = join(dir, 'runs');
    const planned = findingsCells(out).filter((c) => c.grid === 1);
    const all = await said(['--dry-run', '--grid', '1', '--results', results, '--out', out]);
    expect(all).toHaveLength(1);
    const listed = all[0]!.split('\n').filter((l) => /^\s+\d+ {2}tier /.test(l));
    expect(listed).toHaveLength(planned.length);
    expect(all[0]).toContain(`total: ${planned.length} run(s) to go`);
    expect(existsSync(out)).toBe(false); // a dry run starts nothing
    // One finished run (the first in run order) drops out of the list.
    const fixtureLine = JSON.parse(readFileSync(FIXTURE, 'utf8').split('\n')[0]!) as Record<string, unknown>;
    writeFileSync(results, JSON.stringify({ ...fixtureLine, key: planned[0]!.key }) + '\n');
    const after = await said(['--dry-run', '--grid', '1', '--results', results, '--out', out]);
    expect(after[0]).toContain(`total: ${planned.length - 1} run(s) to go`);
    expect(after[0]).not.toContain(` ${planned[0]!.key}\n`);
  });
});
