/**
 * The CLI's command table: deploy/cli.ts imports only the invoked command's module, and all of
 * them for `--help`, no command or an unknown word. Every command must still be listed, have
 * its own help, and bad input must still exit 2 with one line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, runCli } from '../helpers/cli.js';

const COMMANDS = [
  'train',
  'learner',
  'actor',
  'weights',
  'analyze',
  'compare',
  'export-tb',
  'sweep',
  'keys',
  'eval',
  'export',
  'sql',
  'export-parquet',
];

describe('isreshape command table', () => {
  beforeAll(() => ensureBuilt());

  it('--help lists every command, in order', async () => {
    const r = await runCli(['--help'], 30_000);
    expect(r.code).toBe(0);
    const listed = [...r.out.matchAll(/^ {2}isreshape ([\w-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(COMMANDS);
  });

  it('each command has its own help (only that module loaded)', async () => {
    const flagOf: Record<string, string> = {
      train: '--quiet',
      learner: '--bind',
      actor: '--connect',
      weights: '--method',
      analyze: 'runDir',
      compare: 'runDirs',
      'export-tb': '--out',
      sweep: '--parallel',
      keys: '--name',
      eval: '--episodes',
      export: '--format',
      sql: '--format',
      'export-parquet': '--out',
    };
    for (const c of COMMANDS) {
      const r = await runCli([c, '--help'], 30_000);
      expect(r.code, `${c} --help: ${r.err}`).toBe(0);
      expect(r.out.startsWith(`isreshape ${c}`)).toBe(true);
      expect(r.out).toContain(flagOf[c]);
      expect(r.out).not.toContain('Commands:');
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version'], 30_000);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(pkg.version);
  });

  it('no command, an unknown command or an unknown flag exits 2 with one line', async () => {
    const none = await runCli([], 30_000);
    expect(none.code).toBe(2);
    expect(none.err).toBe('isreshape: name a command: isreshape --help lists them\n');
    const bogus = await runCli(['bogus'], 30_000);
    expect(bogus.code).toBe(2);
    expect(bogus.err).toBe('isreshape: Unknown argument: bogus\n');
    const flag = await runCli(['actor', '--connect', 'tcp://127.0.0.1:1', '--bogus', '1'], 30_000);
    expect(flag.code).toBe(2);
    expect(flag.err).toBe('isreshape: Unknown argument: bogus\n');
  });

  // Failed before: "Unknown argument: stpes" / "Unknown argument: trian" with no suggestion.
  it('a mistyped flag or command gets a did-you-mean, still one line and exit 2', async () => {
    const flag = await runCli(['train', '--stpes', '100'], 30_000);
    expect(flag.code).toBe(2);
    expect(flag.err).toBe('isreshape: Unknown argument: stpes; did you mean --steps?\n');
    const cmd = await runCli(['trian'], 30_000);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toBe("isreshape: Unknown argument: trian; did you mean 'isreshape train'? (isreshape --help lists the commands)\n");
  });
});
