/**
 * A local run nobody else can join: `train` binds its learner to an ipc:// socket in a new
 * directory of mode 0700, no TCP port. Another user's process (uid 65534, started by this test
 * as root) can neither connect to the socket nor create anything in the directory (EACCES), so
 * it cannot pose as the learner after the run either; this user's own process can connect (the
 * control: the probe tells the two apart). The directory is removed when the run ends. The
 * other-user half needs root to switch users and is skipped otherwise, with that reason.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, ensureBuilt, recordsOf, smallRunArgs, until } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** Connect to the unix socket `sock` and create a file beside it as `uid`; prints what each gave. */
function probe(sock: string, uid?: number): string {
  const code = `const net = require('net'), fs = require('fs');
const c = net.connect(${JSON.stringify(sock)});
c.on('connect', () => { let w = 'ok'; try { fs.writeFileSync(${JSON.stringify(join(dirname(sock), 'intruder'))}, 'x'); fs.unlinkSync(${JSON.stringify(join(dirname(sock), 'intruder'))}); } catch (e) { w = e.code; } console.log('connect ok, write ' + w); c.destroy(); });
c.on('error', (e) => { let w = 'ok'; try { fs.writeFileSync(${JSON.stringify(join(dirname(sock), 'intruder'))}, 'x'); } catch (e2) { w = e2.code; } console.log('connect ' + e.code + ', write ' + w); });`;
  const r = spawnSync(process.execPath, ['-e', code], {
    encoding: 'utf8',
    ...(uid !== undefined ? { uid, gid: uid } : {}),
    timeout: 30_000,
  });
  return (r.stdout + r.stderr).trim();
}

beforeAll(() => ensureBuilt(), 300_000);

describe('train: a run nobody else can join', () => {
  it.skipIf(!isRoot)(
    'binds an ipc:// socket in a 0700 directory that another user cannot connect to or write in (needs root to be another user)',
    async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), 'isr-private-')), 'run');
      const p = spawn(process.execPath, [CLI, 'train', '--run-dir', runDir, ...smallRunArgs({ steps: 20_000, quiet: true })], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const exit = new Promise<number | null>((r) => p.on('exit', r));
      const log = join(runDir, 'learner.ndjson');
      await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('"kind":"update"'), 'the first update');
      const [t] = recordsOf<{ endpoint: string; curve: boolean }>(log, 'transport');
      expect(t!.endpoint).toMatch(/^ipc:\/\/.+\/isreshape-[^/]+\/learner\.sock$/);
      const sock = t!.endpoint.slice('ipc://'.length);
      const st = statSync(dirname(sock));
      expect((st.mode & 0o777).toString(8)).toBe('700');
      expect(st.uid).toBe(process.getuid!());
      // This user: connects (the probe can tell). Another user: refused at the directory.
      expect(probe(sock)).toBe('connect ok, write ok');
      expect(probe(sock, NOBODY)).toBe('connect EACCES, write EACCES');
      p.kill('SIGINT');
      expect(await exit, out).toBe(0);
      expect(out).toContain(`learner on ${t!.endpoint}`);
      expect(existsSync(dirname(sock))).toBe(false);
    },
    300_000,
  );
});
