/**
 * `npm run bench -- <name> [flags]`: the benchmark dispatcher. Names: pipeline (the default),
 * learning, sequence, pendulum (continuous actions, bench/pendulum.ts), scaling (bench/scaling.ts), grad, codec, collect. Each prints its tables and writes its figures to
 * bench/results/<name>-<timestamp>.json (the path is printed). An unknown name prints one
 * line listing the names and exits 2. grad, codec and collect are the standalone scripts
 * bench/grad.ts, bench/codec-throughput.ts and bench/collect.ts run as child processes (their
 * printed output is the result); extra arguments pass through (e.g. `grad cpu ppo`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../deploy/errors.js';
import { writeResults } from './results.js';

const SCRIPTS: Record<string, string> = { grad: 'grad.js', codec: 'codec-throughput.js', collect: 'collect.js' };
export const BENCH_NAMES = ['pipeline', 'learning', 'sequence', 'pendulum', 'scaling', ...Object.keys(SCRIPTS)] as const;

/** Run a standalone bench script beside this file; echo and capture its stdout. */
function runScript(file: string, args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const script = fileURLToPath(new URL(`./${file}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      chunks.push(d.toString());
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ exitCode: code ?? 1, stdout: chunks.join('') }));
  });
}

/** Dispatch `argv` (after the script name); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name = 'pipeline', ...rest] = argv;
  const when = new Date();
  let data: unknown;
  let code = 0;
  if (name === 'pipeline') {
    if (rest.length > 0) throw new UsageError(`pipeline takes no arguments, got '${rest.join(' ')}'`);
    const { runPipeline } = await import('./pipeline.js');
    data = await runPipeline();
  } else if (name === 'learning') {
    const { parseLearningArgs, runLearning } = await import('./learning.js');
    const r = await runLearning(parseLearningArgs(rest));
    data = r;
    if (r.cells.length === 0) code = 1;
  } else if (name === 'scaling') {
    const { parseScalingArgs, runScaling, scalingSummary } = await import('./scaling.js');
    const a = parseScalingArgs(rest);
    // --json: the tables go to stderr, stdout carries only the JSON summary.
    const r = await runScaling(a, a.json ? (s) => process.stderr.write(`${s}\n`) : undefined);
    data = r;
    if (a.json) {
      console.log(JSON.stringify(scalingSummary(r)));
      process.stderr.write(`results: ${writeResults(name, data, when)}\n`);
      return code;
    }
  } else if (name === 'sequence') {
    const { parseSequenceArgs, runSequence } = await import('./sequence.js');
    const r = await runSequence(parseSequenceArgs(rest));
    data = r;
    if (r.cells.length === 0) code = 1;
  } else if (name === 'pendulum') {
    const { parsePendulumArgs, pendulumTable, runPendulum } = await import('./pendulum.js');
    const r = await runPendulum(parsePendulumArgs(rest));
    console.log(pendulumTable(r.rows, r.options.bar));
    data = r;
    if (r.rows.every((x) => x.stochastic === null)) code = 1;
  } else if (SCRIPTS[name]) {
    const r = await runScript(SCRIPTS[name], rest);
    data = { name, args: rest, ...r };
    code = r.exitCode;
  } else {
    throw new UsageError(`unknown benchmark '${name}'; use one of ${BENCH_NAMES.join(', ')}`);
  }
  console.log(`results: ${writeResults(name, data, when)}`);
  return code;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`bench: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
