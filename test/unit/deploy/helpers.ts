/** Shared helpers of the deploy unit tests: real yargs parsing of the training flags, temp dirs. */
import yargs from 'yargs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainOptions } from '../../../deploy/options.js';
import { configFileOptions } from '../../../deploy/runConfig.js';
import { UsageError } from '../../../deploy/errors.js';

/** argv as the CLI's yargs layer produces it for `args` (strict, our options only). */
export function argvOf(args: string[]): Record<string, unknown> {
  return yargs(args)
    .options({ ...trainOptions(), ...configFileOptions() })
    .strict()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseSync() as Record<string, unknown>;
}

/** A fresh temporary directory. */
export function tmp(prefix = 'isr-cfg-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
