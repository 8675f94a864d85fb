/**
 * `isreshape eval RUN_DIR|CHECKPOINT [--episodes N] [--greedy] [--seed S] [--json]`: run a
 * saved policy (the newest valid checkpoint of a run, or one checkpoint file) for N complete
 * episodes and print the mean and standard deviation of the returns.
 */
import type { CommandModule } from 'yargs';
import { checkCommandFlag, commandOptions, commandPositional, commandRow } from '../commandFields.js';
import { loadSavedPolicy } from '../savedPolicy.js';

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, std: xs.length > 1 ? Math.sqrt(ss / (xs.length - 1)) : 0 };
}

export const evalCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'eval <target>',
  describe: 'Evaluate a saved policy: the newest checkpoint of a run directory, or a checkpoint file',
  builder: (y) => y.positional('target', commandPositional(commandRow('eval', 'target'))).options(commandOptions('eval')),
  handler: async (argv) => {
    const episodes = checkCommandFlag('eval', 'episodes', argv.episodes) as number;
    const seed = checkCommandFlag('eval', 'seed', argv.seed) as number | undefined;
    const envTimeout = checkCommandFlag('eval', 'env-timeout', argv['env-timeout']) as number | undefined;
    const p = await loadSavedPolicy(argv.target as string, 'eval', envTimeout);
    const { evaluateInThread } = await import('../../envs/evalRunner.js');
    const greedy = argv.greedy as boolean;
    const timeoutSec = envTimeout ?? p.envTimeoutSec;
    // In a worker thread under the env watchdog: an environment whose reset() or step() hangs
    // ends the command with one line (envs/watchdog.ts) instead of hanging it. With --json, what
    // the environment prints (console.log) goes to stderr: stdout stays one JSON line.
    const { returns } = await evaluateInThread(
      { envId: p.envId, modelSpec: p.spec, params: Float32Array.from(p.params), episodes, greedy, seed: seed ?? p.seed },
      {
        envModule: p.envModule,
        timeoutMs: timeoutSec * 1000,
        where: "isreshape eval's worker thread",
        stdout: argv.json ? process.stderr : process.stdout,
      },
    );
    const { mean, std } = meanStd(returns);
    if (argv.json) process.stdout.write(JSON.stringify({ episodes, mean, std, greedy, version: p.version }) + '\n');
    else
      process.stdout.write(
        `isreshape eval: ${p.envId} version ${p.version} (${p.file}): mean return ${mean.toFixed(1)} +- ${std.toFixed(1)} (std) over ${episodes} episodes, ${greedy ? 'greedy' : 'sampled'} actions\n`,
      );
  },
};
