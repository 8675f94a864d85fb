/** Running one command module in-process through its real yargs builder, capturing stdout and stderr. */
import { Writable } from 'node:stream';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { vi } from 'vitest';
import { UsageError } from '../../../deploy/errors.js';
import { runCli } from '../../../deploy/runCli.js';

export interface CommandRun {
  out: string;
  err: string;
  /** What the handler threw (undefined when it finished). */
  error?: unknown;
}

/** Parse `args` with `cmd` (strict) and run its handler; never rejects: a throw is in `error`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runCommand(cmd: CommandModule<any, any>, args: string[]): Promise<CommandRun> {
  const r: CommandRun = { out: '', err: '' };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    r.out += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    r.err += String(s);
    return true;
  });
  try {
    await yargs(args)
      .command(cmd)
      .strict()
      .fail((msg, e) => {
        throw e ?? new UsageError(msg);
      })
      .parseAsync();
  } catch (e) {
    r.error = e;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return r;
}

/** The UsageError message of a run (fails the test when it finished or threw something else). */
export function usageMessage(r: CommandRun): string {
  if (!(r.error instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(r.error)}; stdout: ${r.out}`);
  return r.error.message;
}

/** runCli with stdout (process.stdout and console.log) and the io stderr captured, help wrapped at `columns`. */
export async function cli(args: string[], columns = 80): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out += a.join(' ') + '\n';
  });
  const stderr = new Writable({
    write(c, _e, cb) {
      err += String(c);
      cb();
    },
  });
  const code = await runCli(args, { stderr, columns, exitProcess: false });
  vi.restoreAllMocks();
  return { code, out, err };
}
