/**
 * A stand-in for `isreshape train` used by the sweep integration test (passed via the hidden
 * `sweep --cli` flag): parses the flags sweep passes and writes a synthetic run into --run-dir.
 * Exits 3 without writing when --method is the value of FAKE_TRAIN_FAIL_METHOD.
 */
import { writeSynthRun } from './synthRun.js';

const args = process.argv.slice(2);
if (args[0] !== 'train') {
  process.stderr.write(`fakeTrainCli: expected 'train', got ${args[0]}\n`);
  process.exit(2);
}
const flags = new Map<string, string>();
for (let i = 1; i < args.length; i++) {
  const a = args[i]!;
  if (!a.startsWith('--')) continue;
  const next = args[i + 1];
  if (next === undefined || next.startsWith('--')) flags.set(a.slice(2), 'true');
  else flags.set(a.slice(2), args[++i]!);
}
const method = flags.get('method') ?? 'v5';
if (method === process.env.FAKE_TRAIN_FAIL_METHOD) process.exit(3);
const known = new Set(['env', 'method', 'lag', 'seed', 'steps', 'run-dir', 'quiet', 'preset', 'target-return']);
const label = [method, ...[...flags].filter(([k]) => !known.has(k)).map(([k, v]) => `${k}=${v}`)].join(' ');
const lag = flags.get('lag') ?? 'none';
const seed = Number(flags.get('seed') ?? 0);
const lagK = lag === 'none' ? 0 : Number(lag.split(':')[1]);
writeSynthRun(flags.get('run-dir')!, {
  method,
  label,
  lag,
  seed,
  updates: 6,
  returnAt: (s) => (s / 3000) * (method === 'ppo' ? 400 - lagK * 10 : 480) + seed,
});
process.stdout.write(`fake train ${label} ${lag} seed ${seed}\nargs: ${args.join(' ')}\n`);
