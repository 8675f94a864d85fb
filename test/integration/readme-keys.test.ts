/**
 * README, "Running across machines", step 1: the key commands run as written on three
 * machines (three folders), the copies the text asks for are made, and every key file the
 * learner and actor commands of steps 2 and 3 name then exists on its machine and holds the
 * right key (the learner admits exactly the two actors' public keys; each actor trusts the
 * learner's).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT } from '../helpers/cli.js';
import { parseActorNetwork, parseLearnerNetwork } from '../../deploy/networkOptions.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### 1. Keys'), readme.indexOf('### 4. Resume after a crash'));
/** The shell lines of the section's code blocks. */
const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.trim().split('\n'));
/** The machine a line runs on: its `# on machine X` / `# on X` comment; the learner's commands run on A. */
const machineOf = (l: string) => /# on (?:machine )?([A-C])\b/.exec(l)?.[1] ?? (l.includes(' learner ') ? 'A' : null);
/** A flag's value in a command line. */
const flag = (l: string, f: string) => new RegExp(`--${f} (\\S+)`).exec(l)?.[1];

const root = mkdtempSync(join(tmpdir(), 'isr-readme-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = (m: string) => join(root, m);
const sh = (m: string, line: string) =>
  execFileSync('bash', ['-c', line.replace(/#.*$/, '').replace('node dist/deploy/cli.js', `"${process.execPath}" "${CLI}"`)], {
    cwd: dir(m),
    encoding: 'utf8',
  });

describe("README's keys and allow-list paths", () => {
  it('the key files the learner and the actors are given exist where the commands put them, with the right keys', () => {
    ensureBuilt();
    for (const m of ['A', 'B', 'C']) mkdirSync(dir(m));
    const keyLines = lines.filter((l) => l.startsWith('node dist/deploy/cli.js keys'));
    expect(keyLines.map(machineOf)).toEqual(['A', 'B']);
    for (const l of keyLines) sh(machineOf(l)!, l);
    sh('C', keyLines[1]!.replace('actor-b', 'actor-c')); // "likewise actor-c on C"
    // "Copy A's keys/learner.pub into keys/ on B and C, and B's keys/actor-b.pub and C's keys/actor-c.pub into keys/ on A".
    expect(section).toContain(
      "Copy A's `keys/learner.pub` into `keys/` on B and C, and B's `keys/actor-b.pub` and C's\n`keys/actor-c.pub` into `keys/` on A",
    );
    for (const m of ['B', 'C']) copyFileSync(join(dir('A'), 'keys/learner.pub'), join(dir(m), 'keys/learner.pub'));
    for (const [m, name] of [
      ['B', 'actor-b'],
      ['C', 'actor-c'],
    ] as const)
      copyFileSync(join(dir(m), `keys/${name}.pub`), join(dir('A'), `keys/${name}.pub`));
    const cat = lines.filter((l) => l.startsWith('cat '));
    expect(cat.map(machineOf)).toEqual(['A']);
    sh('A', cat[0]!);

    const pub = (m: string, name: string) => readFileSync(join(dir(m), `keys/${name}.pub`), 'utf8').trim();
    const learners = lines.filter((l) => l.startsWith('node dist/deploy/cli.js learner') && l.includes('--curve-allow'));
    expect(learners.length).toBeGreaterThan(0);
    for (const l of learners) {
      const net = parseLearnerNetwork(
        { 'curve-secret': join(dir('A'), flag(l, 'curve-secret')!), 'curve-allow': join(dir('A'), flag(l, 'curve-allow')!) },
        'tcp://0.0.0.0:5555',
      );
      expect(net.curve!.publicKey).toBe(pub('A', 'learner'));
      expect([...net.curve!.allow].sort()).toEqual([pub('B', 'actor-b'), pub('C', 'actor-c')].sort());
    }
    const actors = lines.filter((l) => l.startsWith('node dist/deploy/cli.js actor'));
    expect(actors.map(machineOf)).toEqual(['B', 'C']);
    for (const l of actors) {
      const m = machineOf(l)!;
      const net = parseActorNetwork({
        'curve-secret': join(dir(m), flag(l, 'curve-secret')!),
        'curve-server': join(dir(m), flag(l, 'curve-server')!),
        'connect-timeout': 30,
      });
      expect(net.curve!.publicKey).toBe(pub(m, m === 'B' ? 'actor-b' : 'actor-c'));
      expect(net.curve!.serverKey).toBe(pub('A', 'learner'));
    }
  });
});
