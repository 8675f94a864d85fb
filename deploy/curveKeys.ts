/**
 * CURVE key files. `isreshape keys` writes a pair as `NAME.key` (public and secret key, readable
 * by the owner only) and `NAME.pub` (the public key alone, to hand to the other side). The
 * learner reads its `.key` and an allow list of actor public keys; an actor reads its own `.key`
 * and the learner's `.pub`. Keys are Z85 text (40 characters), as ZeroMQ prints them.
 */
import { curveKeyPair } from 'zeromq';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';

export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

const Z85 = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** True when `s` is a 40-character Z85 key. */
export function isZ85Key(s: string): boolean {
  return Z85.test(s);
}

/** Write a new key pair to DIR/NAME.key (mode 0600) and DIR/NAME.pub; refuses to overwrite. */
export function writeKeyPair(dir: string, name: string): { keyFile: string; pubFile: string; publicKey: string } {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
    throw new UsageError(`--name: '${name}' is not a plain file name; use letters, digits, '.', '_' or '-'`);
  }
  const keyFile = path.join(dir, `${name}.key`);
  const pubFile = path.join(dir, `${name}.pub`);
  for (const f of [keyFile, pubFile]) {
    if (existsSync(f)) throw new UsageError(`--out: ${f} exists; choose another --name or remove it (keys are never overwritten)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { publicKey, secretKey } = curveKeyPair();
  writeFileSync(
    keyFile,
    `# isreshape CURVE key pair '${name}': keep this file secret\npublic-key = ${publicKey}\nsecret-key = ${secretKey}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  writeFileSync(pubFile, `${publicKey}\n`, { mode: 0o644, flag: 'wx' });
  return { keyFile, pubFile, publicKey };
}

function readText(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Read a `.key` file written by `writeKeyPair`; `flag` names the option in errors. */
export function readKeyPair(flag: string, file: string): CurveKeyPair {
  const text = readText(flag, file);
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0)
    throw new UsageError(
      `--${flag}: '${file}' is readable by group or others (mode ${(statSync(file).mode & 0o777).toString(8)}); run chmod 600 '${file}'`,
    );
  const field = (k: string): string => {
    const m = new RegExp(`^${k}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text);
    if (!m || !isZ85Key(m[1]))
      throw new UsageError(`--${flag}: '${file}' has no valid '${k} = <40 Z85 characters>' line; make one with isreshape keys`);
    return m[1];
  };
  return { publicKey: field('public-key'), secretKey: field('secret-key') };
}

/** Read public keys, one Z85 key a line (blank lines and '#' comments ignored). */
export function readPublicKeys(flag: string, file: string): string[] {
  const keys: string[] = [];
  readText(flag, file)
    .split('\n')
    .forEach((raw, i) => {
      // '#' is a Z85 character: a whole line that is a key is a key; otherwise a '#' at the
      // start of the line or after a space begins a comment.
      const t = raw.trim();
      const line = isZ85Key(t) ? t : t.replace(/(^|\s)#.*/, '').trim();
      if (line === '') return;
      if (!isZ85Key(line)) throw new UsageError(`--${flag}: line ${i + 1} of '${file}' is not a 40-character Z85 public key`);
      keys.push(line);
    });
  if (keys.length === 0) throw new UsageError(`--${flag}: '${file}' holds no public key`);
  return keys;
}
