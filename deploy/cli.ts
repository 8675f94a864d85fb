#!/usr/bin/env node
/**
 * The `isreshape` command line. One yargs command module per verb in `deploy/commands/`.
 * Bad input exits with status 2 and one line naming the flag and the value; anything else
 * that fails exits 1 with its message.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { UsageError } from './errors.js';
import { weightsCommand } from './commands/weights.js';
import { analyzeCommand } from './commands/analyze.js';
import { compareCommand } from './commands/compare.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { learnerCommand } from './commands/learner.js';
import { actorCommand } from './commands/actor.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const commands: CommandModule<any, any>[] = [trainCommand, learnerCommand, actorCommand, weightsCommand, analyzeCommand, compareCommand, sweepCommand];

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('isreshape')
    .strict()
    .demandCommand(1, 'name a command: isreshape --help lists them')
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      // yargs' own parse errors (YError, e.g. "Not enough arguments following: w") are bad input too.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg ?? err?.message ?? 'bad arguments');
    });
  for (const c of commands) cli = cli.command(c);
  await cli.parseAsync();
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`isreshape: ${err.message}\n`);
    process.exit(2);
  }
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`isreshape: ${msg}\n`);
  process.exit(1);
});
