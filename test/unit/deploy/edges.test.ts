/**
 * Edge cases a probe of the CLI found: each used to hang, print a stack trace or start work
 * before failing. Each must now be one UsageError line naming the flag, before anything is
 * created or started.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../../deploy/options.js';
import { writeRunConfig } from '../../../deploy/runConfig.js';
import { parseLearnerNetwork } from '../../../deploy/networkOptions.js';
import { makeSweepCommand } from '../../../deploy/commands/sweep.js';
import { UsageError } from '../../../deploy/errors.js';
import { argvOf, tmp } from './helpers.js';
import { runCommand, usageMessage } from './runCommand.js';

describe('CLI edges', () => {
  it('--run-dir under a file or in /proc: one line naming the flag, no stack trace', () => {
    for (const dir of ['/etc/passwd/x', '/proc/isreshape-x']) {
      const cfg = buildConfig(argvOf(['--run-dir', dir]));
      expect(() => writeRunConfig(cfg)).toThrow(UsageError);
      expect(() => writeRunConfig(cfg)).toThrow(/^--run-dir: cannot create '.*'.*pick a writable directory$/);
    }
  });

  it('--bind that is not a ZeroMQ endpoint is refused before the CURVE check', () => {
    for (const bind of ['garbage://x', 'tcp://host', 'tcp://:5555', '5555']) {
      expect(() => parseLearnerNetwork({ 'curve-secret': undefined, 'curve-allow': undefined }, bind)).toThrow(
        /^--bind: '.*' is not a ZeroMQ endpoint/,
      );
    }
    expect(parseLearnerNetwork({}, 'tcp://127.0.0.1:0')).toEqual({ curve: null });
    expect(parseLearnerNetwork({}, 'tcp://[::1]:*')).toEqual({ curve: null });
  });

  it('sweep --env with an unknown environment fails before any cell starts', async () => {
    const out = join(tmp('isr-edge-'), 'sweep');
    let cells = 0;
    const cmd = makeSweepCommand({
      runCell: () => {
        cells++;
        return Promise.resolve(0);
      },
    });
    const r = await runCommand(cmd, ['sweep', '--env', 'Pong-v0', '--out', out, '--seeds', '1', '--methods', 'ppo', '--lags', '0']);
    expect(usageMessage(r)).toMatch(/^--env: 'Pong-v0' is not a known environment/);
    expect(existsSync(out)).toBe(false);
    expect(cells).toBe(0);
  });
});
