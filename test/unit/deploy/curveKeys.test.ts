import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { isZ85Key, readKeyPair, readPublicKeys, writeKeyPair } from '../../../deploy/curveKeys.js';
import { UsageError } from '../../../deploy/errors.js';

function withDir(f: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isr-keys-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('CURVE key files', () => {
  it(
    'writes NAME.key owner-only and NAME.pub, reads them back, and never overwrites',
    withDir((dir) => {
      const out = path.join(dir, 'keys');
      const r = writeKeyPair(out, 'learner');
      expect(statSync(r.keyFile).mode & 0o777).toBe(0o600);
      expect(isZ85Key(r.publicKey)).toBe(true);
      const pair = readKeyPair('curve-secret', r.keyFile);
      expect(pair.publicKey).toBe(r.publicKey);
      expect(isZ85Key(pair.secretKey)).toBe(true);
      expect(readPublicKeys('curve-allow', r.pubFile)).toEqual([r.publicKey]);
      expect(() => writeKeyPair(out, 'learner')).toThrow(/learner\.key exists/);
      expect(() => writeKeyPair(out, '../evil')).toThrow(UsageError);
    }),
  );

  it(
    'refuses a secret key readable by others, a missing file and malformed keys, naming the flag',
    withDir((dir) => {
      const r = writeKeyPair(dir, 'a');
      chmodSync(r.keyFile, 0o644);
      expect(() => readKeyPair('curve-secret', r.keyFile)).toThrow(/--curve-secret: .*chmod 600/);
      expect(() => readKeyPair('curve-secret', path.join(dir, 'none.key'))).toThrow(/--curve-secret: cannot read .*ENOENT/);
      const bad = path.join(dir, 'allow.txt');
      writeFileSync(bad, `# actors\n${readFileSync(r.pubFile, 'utf8')}not-a-key\n`);
      expect(() => readPublicKeys('curve-allow', bad)).toThrow(/--curve-allow: line 3 /);
      writeFileSync(bad, '# nothing\n\n');
      expect(() => readPublicKeys('curve-allow', bad)).toThrow(/holds no public key/);
      // '#' is a Z85 character: a key that contains or starts with it is still a key.
      const hashKey = '#'.repeat(1) + 'a'.repeat(38) + '#';
      writeFileSync(bad, `# one key\n${hashKey}\n`);
      expect(readPublicKeys('curve-allow', bad)).toEqual([hashKey]);
      writeFileSync(bad, '# nothing\n\n');
      expect(() => readPublicKeys('curve-allow', bad)).toThrow(/holds no public key/);
    }),
  );

  it(
    'the written keys complete a real CURVE handshake on loopback; a wrong server key gets nothing through',
    withDir(async (dir) => {
      const server = readKeyPair('k', writeKeyPair(dir, 'learner').keyFile);
      const client = readKeyPair('k', writeKeyPair(dir, 'actor').keyFile);
      const other = readKeyPair('k', writeKeyPair(dir, 'other').keyFile);
      const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey });
      await router.bind('tcp://127.0.0.1:*');
      const good = new zmq.Dealer({
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
        linger: 0,
      });
      const bad = new zmq.Dealer({
        curveServerKey: other.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
        linger: 0,
      });
      try {
        bad.connect(router.lastEndpoint!);
        await bad.send('from-bad');
        good.connect(router.lastEndpoint!);
        await good.send('from-good');
        const [, msg] = await router.receive();
        expect(msg.toString()).toBe('from-good');
        // Nothing else arrives: the handshake with the wrong server key never completes.
        router.receiveTimeout = 300;
        await expect(router.receive()).rejects.toThrow();
      } finally {
        good.close();
        bad.close();
        router.close();
      }
    }),
  );
});

describe('readPublicKeys and the # character', () => {
  it('keeps a key containing #; only a line starting with # is a comment', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPublicKeys: read } = await import('../../../deploy/curveKeys.js');
    const f = join(mkdtempSync(join(tmpdir(), 'isr-keys-')), 'allow');
    const key = 'Oz>7dMj0y)^Y1-zuG37cni1/F+=ualD>}0%d7#Uu';
    writeFileSync(f, `# actors\n${key}\n`);
    expect(read('curve-allow', f)).toEqual([key]);
  });
});
