/**
 * `sweep` and the run-dir rule: a cell whose run directory exists without a summary (an
 * interrupted run) is set aside under <out>/_partial/ and run again in a new directory, since
 * train refuses an existing one; `--config FILE` reaches every cell.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/deploy/cli.js');
const FAKE_TRAIN = join(ROOT, 'dist/test/helpers/fakeTrainCli.js');

beforeAll(() => ensureBuilt(), 300_000);

describe('sweep over an interrupted cell', () => {
  it('sets the partial run aside, re-runs the cell, and passes --config to it', () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-sweep-partial-'));
    const out = join(root, 'sw');
    const partial = join(out, 'ppo_lag0_seed0');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'config.json'), '{"runId":"interrupted"}\n');
    const cfg = join(root, 'base.yaml');
    writeFileSync(cfg, 'epochs: 2\n');
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        'sweep',
        '--methods',
        'ppo',
        '--lags',
        '0',
        '--seeds',
        '1',
        '--steps',
        '3000',
        '--parallel',
        '1',
        '--out',
        out,
        '--config',
        cfg,
        '--cli',
        FAKE_TRAIN,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const aside = readdirSync(join(out, '_partial'));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^ppo_lag0_seed0-\d{8}T\d{9}Z$/);
    expect(readFileSync(join(out, '_partial', aside[0]!, 'config.json'), 'utf8')).toContain('interrupted');
    expect(existsSync(join(partial, 'learner.ndjson'))).toBe(true);
    expect(readFileSync(join(out, '_logs', 'ppo_lag0_seed0.log'), 'utf8')).toContain(`--config ${cfg}`);
  });
});
