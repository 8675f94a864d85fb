#!/usr/bin/env node
/**
 * `npm run test:containers`: the deployment run for real, as deploy/compose.yaml describes it,
 * with podman and podman-compose (root; see README, "Containers" and "Docker Compose"). Not part
 * of `npm test`: it needs root, podman and a few minutes.
 *
 * 1. scripts/containers/prepare.sh: podman, podman-compose, runc, debootstrap where missing, a
 *    containers.conf of its own (CONTAINERS_CONF), the base image (skipped when it exists).
 * 2. `podman build --pull=never --build-arg BASE=<base> -f deploy/Dockerfile -t isreshape:latest .`
 *    (podman's layer cache makes an unchanged build fast).
 * 3. In a scratch copy of deploy/compose.yaml and deploy/run-config.yaml, the compose file's own
 *    header steps, run literally (`docker compose` -> `podman-compose`, project isreshape-ctest,
 *    no --build, no sudo as root). The learner must listen without a restart (defect 1).
 * 4. A wrong-key actor (actor-0's service with another key pair) is refused and exits 1.
 * 5. kill -9 of the learner: the restart policy restarts it, it resumes with versions above every
 *    version logged, every actor rejoins (the time each took is printed as a figure).
 * 6. The learner killed by `podman kill` and started again (a new IP): an actor's lookup of the
 *    learner's name, made while it is away, ends, and every actor rejoins (defect 4; times
 *    printed as figures, not asserted).
 * 7. `podman-compose stop`: every container exits 0 within its grace period (defect 4); `start`
 *    resumes from the final checkpoint and every actor joins.
 * 8. The run reaches its budget: received = trained + dropped + rejected (summary.json); the
 *    actors exit 0 and are not restarted.
 * 9. `podman-compose start` after the end: the actors exit 0 within ENDED_BOUND_S and stay
 *    exited (defect 2).
 * It prints each figure, and removes what it started by name (project isreshape-ctest: its
 * containers, volumes and network; the container isreshape-ctest_wrong-key; the scratch copy).
 * The images stay (the next run reuses them).
 *
 * Environment: ISR_CTEST_STEPS overrides the run config's `steps` (default: unchanged, 200000).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROJECT = 'isreshape-ctest';
const BASE_IMAGE = 'localhost/isreshape-base:node20-bookworm';
const ENDED_BOUND_S = 60;
const T0 = Date.now();

const figures = [];
const failures = [];
const secs = (ms) => (ms / 1000).toFixed(1);
function log(msg) {
  console.log(`[${secs(Date.now() - T0).padStart(6)} s] ${msg}`);
}
function figure(name, value) {
  figures.push([name, String(value)]);
  log(`FIGURE ${name}: ${value}`);
}
function check(ok, what) {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
  return ok;
}
class Abort extends Error {}
function must(ok, what) {
  if (!check(ok, what)) throw new Abort(what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.getuid?.() !== 0) {
  console.error('test:containers: run as root (podman as root, apt-get, debootstrap)');
  process.exit(2);
}

// ---- 1. prepare
let t = Date.now();
const prep = spawnSync('bash', [path.join(ROOT, 'scripts/containers/prepare.sh')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (prep.status !== 0) {
  console.error(`test:containers: scripts/containers/prepare.sh failed (exit ${prep.status})`);
  process.exit(1);
}
const confLine = prep.stdout.trim().split('\n').at(-1) ?? '';
const conf = /^export CONTAINERS_CONF=(.+)$/.exec(confLine)?.[1];
if (!conf) {
  console.error(`test:containers: prepare.sh did not print the CONTAINERS_CONF line (got: ${confLine})`);
  process.exit(1);
}
const ENV = { ...process.env, CONTAINERS_CONF: conf };
figure('prepare (packages, containers.conf, base image)', `${secs(Date.now() - t)} s`);

/** Run a command; returns stdout (throws with its stderr when it fails, unless `allowFail`). */
function run(cmd, args, { cwd = ROOT, allowFail = false, input } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.status !== 0 && !allowFail)
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout ?? '';
}
const podman = (...args) => run('podman', args);
const podmanOk = (...args) => run('podman', args, { allowFail: true });

// ---- 2. the project's image
t = Date.now();
execFileSync(
  'podman',
  ['build', '--pull=never', '--build-arg', `BASE=${BASE_IMAGE}`, '-f', 'deploy/Dockerfile', '-t', 'isreshape:latest', '.'],
  { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'inherit'] },
);
figure(
  'podman build of deploy/Dockerfile',
  `${secs(Date.now() - t)} s (${(Number(podman('image', 'inspect', '--format', '{{.Size}}', 'isreshape:latest')) / 1e6).toFixed(0)} MB)`,
);

// ---- 3. the compose file's header, literally
const work = mkdtempSync(path.join(tmpdir(), 'isreshape-ctest-'));
const deploy = path.join(work, 'deploy');
const composeFile = path.join(deploy, 'compose.yaml');
const compose = (...args) => run('podman-compose', ['-p', PROJECT, '-f', composeFile, ...args], { cwd: work });
const name = (service) => `${PROJECT}_${service}_1`;
const wrongKey = `${PROJECT}_wrong-key`;

function cleanup(removeWork = true) {
  log('cleanup');
  podmanOk('rm', '-f', '-t', '0', wrongKey);
  if (existsSync(composeFile))
    run('podman-compose', ['-p', PROJECT, '-f', composeFile, 'down', '-v', '-t', '5'], { cwd: work, allowFail: true });
  // What podman-compose may leave: containers, volumes and the network of the project, by name.
  for (const id of podmanOk('ps', '-a', '--filter', `label=io.podman.compose.project=${PROJECT}`, '--format', '{{.Names}}')
    .split('\n')
    .filter(Boolean))
    podmanOk('rm', '-f', '-t', '0', id);
  for (const v of ['run', 'actor-logs']) podmanOk('volume', 'rm', '-f', `${PROJECT}_${v}`);
  podmanOk('network', 'rm', '-f', `${PROJECT}_isreshape`);
  if (removeWork) rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** Records of one kind from the learner's log on the `run` volume. */
function learnerRecords(kind) {
  const file = path.join(volumePath('run'), 'run', 'learner.ndjson');
  if (!existsSync(file)) return [];
  const out = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes(`"kind":"${kind}"`)) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line being written
    }
  }
  return out;
}
const volumes = new Map();
function volumePath(v) {
  if (!volumes.has(v)) volumes.set(v, podman('volume', 'inspect', '--format', '{{.Mountpoint}}', `${PROJECT}_${v}`).trim());
  return volumes.get(v);
}
function state(c) {
  const [status, exit, restarts, ip] = podman(
    'inspect',
    '--format',
    '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
    c,
  )
    .trim()
    .split(' ');
  return { status, exit: Number(exit), restarts: Number(restarts), ip: ip ?? '' };
}
async function waitFor(f, what, ms) {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > ms) return { value: null, ms: Date.now() - t0, what };
    await sleep(500);
  }
}

let actors = [];
let budget = 0;
try {
  cleanup(false); // a previous run's leftovers, by name
  mkdirDeploy();
  const source = readFileSync(path.join(ROOT, 'deploy/compose.yaml'), 'utf8');
  const header = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^# {3}(\S.*)$/.exec(line);
    if (m) header.push(m[1]);
  }
  must(header.length > 0, `deploy/compose.yaml's header holds the setup commands (${header.length})`);
  const parsed = parseYaml(source, { merge: true });
  actors = Object.keys(parsed.services).filter((s) => s.startsWith('actor-'));
  const runConfig = parseYaml(readFileSync(path.join(deploy, 'run-config.yaml'), 'utf8'));
  budget = Number(process.env.ISR_CTEST_STEPS ?? runConfig.steps);
  if (process.env.ISR_CTEST_STEPS) {
    if (!Number.isInteger(budget) || budget <= 0)
      throw new Abort(`ISR_CTEST_STEPS: '${process.env.ISR_CTEST_STEPS}' must be a whole number of steps > 0`);
    const text = readFileSync(path.join(deploy, 'run-config.yaml'), 'utf8').replace(/^steps: .*$/m, `steps: ${budget}`);
    writeFileSync(path.join(deploy, 'run-config.yaml'), text);
  }
  figure(
    'run config',
    `${runConfig.preset}/${runConfig.method}, ${runConfig.actors} actors x ${runConfig.workers} worker(s), budget ${budget} steps${process.env.ISR_CTEST_STEPS ? ' (ISR_CTEST_STEPS)' : ' (deploy/run-config.yaml unchanged)'}`,
  );
  t = Date.now();
  for (const cmd of header) {
    const literal = cmd
      .replace(/^sudo /, '')
      .replace(/docker compose -p isreshape /, `podman-compose -p ${PROJECT} `)
      .replace(/ --build\b/, '');
    log(`header step: ${literal}`);
    run('sh', ['-c', literal], { cwd: work });
  }
  // ---- the learner listens, without restarting (defect 1: the keys readable by uid 1000)
  const listening = await waitFor(() => podmanOk('logs', name('learner')).includes('listening on'), 'the learner listening', 120_000);
  const ls = state(name('learner'));
  must(
    listening.value !== null && ls.restarts === 0,
    `the learner, started by the header's steps, listens without a restart (${secs(listening.ms)} s, ${ls.restarts} restarts)${listening.value ? '' : `; its log: ${podmanOk('logs', '--tail', '5', name('learner')).trim()}`}`,
  );
  const firstUpdate = await waitFor(() => learnerRecords('update')[0], 'a first update', 120_000);
  must(firstUpdate.value !== null, 'the learner trains (a first update record)');
  figure('first update after the learner started', `${secs(firstUpdate.value.time - learnerRecords('start')[0].time)} s`);

  // ---- 5. kill -9 of the learner mid-run
  await waitFor(() => (learnerRecords('update').at(-1)?.envSteps ?? 0) >= budget * 0.15, '15% of the budget', 600_000);
  const before = Math.max(...learnerRecords('update').map((u) => u.version));
  const ipBefore = state(name('learner')).ip;
  const pid = podman('inspect', '--format', '{{.State.Pid}}', name('learner')).trim();
  const killedAt = Date.now();
  run('kill', ['-9', pid]);
  log(`kill -9 ${pid} (the learner, at version ${before})`);
  const resumed = await waitFor(() => learnerRecords('resume')[0], 'a resume record', 120_000);
  must(resumed.value !== null, 'the learner, killed with SIGKILL, is restarted by its policy and resumes');
  figure(
    'learner down after kill -9 (kill -> resume record)',
    `${secs(resumed.value.time - killedAt)} s; IP ${ipBefore} -> ${state(name('learner')).ip}`,
  );
  check(
    resumed.value.version > before,
    `versions are never reused: resumed at ${resumed.value.version} > ${before} logged before the kill`,
  );
  await checkRejoin(resumed.value.time, 'after kill -9');

  // ---- 4. a wrong-key actor (actor-0's service, another key pair), while the learner is up
  run('node', [path.join(ROOT, 'dist/deploy/cli.js'), 'keys', '--out', path.join(work, 'wrong'), '--name', 'intruder'], { cwd: work });
  run('chown', ['1000', path.join(work, 'wrong/intruder.key')]);
  const a0 = parsed.services[actors[0]];
  const args = ['run', '-d', '--name', wrongKey, '--net', `${PROJECT}_isreshape`, '--entrypoint', a0.entrypoint[0]];
  for (const [k, v] of Object.entries({ ...a0.environment, CONNECT_TIMEOUT: '10' })) args.push('-e', `${k}=${v}`);
  for (const v of a0.volumes) if (String(v).startsWith('./')) args.push('-v', path.resolve(deploy, String(v)));
  args.push('-v', `${path.join(work, 'wrong/intruder.key')}:/run/secrets/actors.key:ro`);
  args.push('-v', `${path.join(deploy, 'keys/learner.pub')}:/run/secrets/learner.pub:ro`);
  args.push(a0.image);
  const wrongAt = Date.now();
  podman(...args);

  const wrong = await waitFor(() => state(wrongKey).status === 'exited' && state(wrongKey), 'the wrong-key actor exiting', 120_000);
  check(
    wrong.value?.exit === 1,
    `the wrong-key actor is refused and exits 1 (exit ${wrong.value?.exit}, after ${secs(Date.now() - wrongAt)} s)`,
  );
  const refused = learnerRecords('curve-refused');
  check(
    refused.length > 0,
    `the learner logs the refused key (${refused.length} curve-refused records, key ${refused[0]?.key}, from ${refused[0]?.address})`,
  );

  // ---- 6. the learner killed (no Stop reaches the actors) and started again: a new IP (defect 4).
  // `podman kill` is a manual stop, which the restart policy leaves alone; `start` sets the
  // container's network up again, with a new address. (A SIGTERM would have the learner tell
  // the actors to stop.)
  must(
    !existsSync(path.join(volumePath('run'), 'run', 'summary.json')),
    'the run is still going when the learner moves (if it ended, raise ISR_CTEST_STEPS)',
  );
  podman('kill', '--signal', 'KILL', name('learner'));
  await sleep(3000);
  // The lookup zmq makes at every attempt, in an actor while the learner's name is gone: unbounded,
  // it took 20-40 s, and zmq's I/O thread attempts no connection meanwhile (defect 4).
  const lookup = new Promise((resolve) => {
    const p = spawn(
      'podman',
      ['exec', name(actors[0]), 'sh', '-c', 's=$(date +%s%N); getent ahosts learner >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 ))'],
      { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => resolve(code === 0 && /^\d+$/.test(out.trim()) ? Number(out.trim()) : NaN));
  });
  compose('start', 'learner');
  const resumed2 = await waitFor(() => learnerRecords('resume')[1], 'a second resume record', 120_000);
  must(resumed2.value !== null, 'the learner stopped and started resumes');
  const ipAfter = state(name('learner')).ip;
  figure('learner podman kill + start', `IP ${ipBefore} -> ${ipAfter}${ipAfter === ipBefore ? ' (the same address)' : ''}`);
  const lookupMs = await Promise.race([lookup, sleep(90_000).then(() => NaN)]);
  figure("an actor's lookup of the learner's name while it was away", `${lookupMs} ms`);
  check(
    Number.isFinite(lookupMs),
    `an actor's lookup of the absent learner ends (${Number.isFinite(lookupMs) ? `${lookupMs} ms` : 'no answer from podman exec within 90 s'})`,
  );
  await checkRejoin(resumed2.value.time, 'after the learner moved');

  // ---- 7. stop and start of the whole deployment
  const stopAt = Date.now();
  compose('stop');
  figure('podman-compose stop', `${secs(Date.now() - stopAt)} s`);
  for (const c of ['learner', ...actors]) {
    const s = state(name(c));
    check(s.status === 'exited' && s.exit === 0, `${c} stopped with exit 0 within its grace period (exit ${s.exit})`);
  }
  const finalCkpt = learnerRecords('checkpoint').at(-1);
  check(finalCkpt?.final === true, `the learner wrote a final checkpoint at stop (${finalCkpt?.file}, version ${finalCkpt?.version})`);
  compose('start');
  const resumed3 = await waitFor(() => learnerRecords('resume')[2], 'a third resume record', 120_000);
  must(resumed3.value !== null, 'start resumes the learner');
  check(resumed3.value.checkpoint === finalCkpt?.file, `start resumes from the final checkpoint (${resumed3.value.checkpoint})`);
  // Here the actors' containers start too (a fresh start, not a rejoin).
  await checkRejoin(resumed3.value.time, 'after stop and start');

  // ---- 8. the end of the run
  const summaryFile = path.join(volumePath('run'), 'run', 'summary.json');
  // The stop above wrote a summary too (stopReason "SIGTERM received"): wait for the run's own end.
  const endSummary = () => {
    if (!existsSync(summaryFile)) return null;
    const x = JSON.parse(readFileSync(summaryFile, 'utf8'));
    return /^SIG[A-Z]+ received/.test(x.stopReason) ? null : x;
  };
  const done = await waitFor(endSummary, 'summary.json of the ended run', 900_000);
  must(done.value !== null, 'the run ends by its budget (summary.json)');
  const s = done.value;
  figure(
    'summary',
    `${s.stopReason}; ${s.envSteps} steps, final eval ${s.finalEval?.stochastic} (greedy ${s.finalEval?.greedy}), version ${s.version}`,
  );
  check(s.envSteps >= budget, `training reaches the budget (${s.envSteps} >= ${budget})`);
  figure('accounting', `received ${s.received} = trained ${s.trained} + dropped ${s.dropped} + rejected ${s.rejected}`);
  check(s.received === s.trained + s.dropped + s.rejected, 'received = trained + dropped + rejected');
  const allVersions = learnerRecords('update').map((u) => u.version);
  check(
    allVersions.every((v, i) => i === 0 || v > allVersions[i - 1]),
    `versions strictly increase over the ${allVersions.length} updates and 3 resumes`,
  );
  const ended = await waitFor(() => actors.every((a) => state(name(a)).status === 'exited') && true, 'the actors ending', 180_000);
  for (const a of actors) {
    const st = state(name(a));
    check(
      st.status === 'exited' && st.exit === 0,
      `${a} ends with the run: exit 0 (${st.status}, exit ${st.exit}, after ${secs(ended.ms)} s)`,
    );
  }

  // ---- 9. start after the run has ended (defect 2)
  const restarts0 = Object.fromEntries(actors.map((a) => [a, state(name(a)).restarts]));
  const startAt = Date.now();
  compose('start');
  const stopped = await waitFor(
    () => Date.now() - startAt > 5000 && actors.every((a) => state(name(a)).status === 'exited') && true,
    'the actors exiting',
    ENDED_BOUND_S * 1000,
  );
  figure('start after the end: actors exited', stopped.value ? `${secs(Date.now() - startAt)} s` : `not within ${ENDED_BOUND_S} s`);
  await sleep(5000);
  for (const a of actors) {
    const st = state(name(a));
    check(
      st.status === 'exited' && st.exit === 0 && st.restarts === restarts0[a],
      `${a}, started after the run ended, exits 0 and is not restarted (${st.status}, exit ${st.exit}, restarts ${st.restarts - restarts0[a]})`,
    );
  }
  const answered = learnerRecords('ended-answered').at(-1);
  if (answered) figure('learner after the end', `answered ${answered.peers} peer(s) with Stop`);
} catch (e) {
  if (!(e instanceof Abort)) {
    failures.push(String(e?.stack ?? e));
    console.error(e);
  }
} finally {
  cleanup();
}

console.log('\nFigures');
for (const [k, v] of figures) console.log(`  ${k}: ${v}`);
console.log(`\ntest:containers: ${failures.length === 0 ? 'passed' : `${failures.length} check(s) failed`} in ${secs(Date.now() - T0)} s`);
for (const f of failures) console.log(`  FAIL ${f}`);
process.exit(failures.length === 0 ? 0 : 1);

/** A scratch copy of the files the compose file uses, with dist/ (the CLI the header runs). */
function mkdirDeploy() {
  mkdirSync(deploy, { recursive: true });
  cpSync(path.join(ROOT, 'deploy/compose.yaml'), composeFile);
  cpSync(path.join(ROOT, 'deploy/run-config.yaml'), path.join(deploy, 'run-config.yaml'));
  symlinkSync(path.join(ROOT, 'dist'), path.join(work, 'dist'));
}

/**
 * Every actor says hello to the learner that started at `since` (ms). How long each took is a
 * figure, not a pass/fail bound: the
 * 120 s wait is only the hang guard.
 */
async function checkRejoin(since, when) {
  const joinedAfter = () => {
    const j = new Map();
    for (const r of learnerRecords('actor-joined')) if (r.time >= since && !j.has(r.actorId)) j.set(r.actorId, r.time - since);
    return j;
  };
  const all = await waitFor(() => joinedAfter().size >= actors.length && joinedAfter(), 'every actor joined', 120_000);
  const j = all.value ?? joinedAfter();
  const times = [...j.entries()].sort((a, b) => a[0] - b[0]).map(([id, ms]) => `actor ${id} ${secs(ms)} s`);
  figure(`rejoin ${when}`, times.join(', ') || 'none');
  const worst = Math.max(...j.values());
  check(j.size === actors.length, `every actor rejoins ${when} (${j.size}/${actors.length}, slowest ${secs(worst)} s)`);
}
