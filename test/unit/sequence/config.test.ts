/**
 * The sequence settings through the real flag parsing and the one validator, and the rollout's
 * source array through the real codec and validator.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../../deploy/options.js';
import { UsageError } from '../../../deploy/errors.js';
import { PRESETS } from '../../../deploy/presets.js';
import { decode, encode } from '../../../protocol/codec.js';
import { validateRollout } from '../../../protocol/validate.js';
import { envSpecOf } from '../../../envs/registry.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { argvOf } from '../deploy/helpers.js';
import { makeRollout } from '../protocol/helpers.js';

function usage(args: string[]): string {
  try {
    buildConfig(argvOf(args));
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
}

const SEQ = ['--env', 'seq-reverse', '--segment-steps', '4'];

describe('sequence settings', () => {
  it('go into the env id; the advantage defaults to group', () => {
    const c = buildConfig(
      argvOf(['--env', 'seq-reverse', '--seq-vocab', '12', '--seq-length', '6', '--segment-steps', '6', '--run-dir', '/tmp/x']),
    );
    expect(c.env).toBe('seq-reverse-v12-l6');
    expect(c.advantage).toBe('group');
    expect(buildConfig(argvOf([...SEQ, '--run-dir', '/tmp/x'])).env).toBe('seq-reverse');
    expect(
      buildConfig(argvOf(['--env', 'seq-reverse', '--advantage', 'gae', '--segment-steps', '7', '--run-dir', '/tmp/x'])).advantage,
    ).toBe('gae');
    // A saved config (env id with settings) builds the same env again.
    expect(
      buildConfig(
        argvOf(['--env', 'seq-reverse-v12-l6', '--seq-vocab', '12', '--seq-length', '6', '--segment-steps', '6', '--run-dir', '/tmp/x']),
      ).env,
    ).toBe('seq-reverse-v12-l6');
  });

  it('bad combinations are refused with the flag named', () => {
    expect(usage([...SEQ, '--group-size', '3'])).toMatch(/^--group-size: 3 must divide --envs-per-worker 4/);
    expect(usage(['--env', 'seq-reverse', '--segment-steps', '8'])).toMatch(
      /^--segment-steps: 8 must equal --seq-length 4 with --advantage group/,
    );
    expect(usage(['--env', 'seq-add', '--seq-length', '5', '--segment-steps', '5'])).toMatch(/^--seq-length: seq-add needs an even length/);
    expect(usage(['--behaviour', 'teacher'])).toMatch(/^--behaviour: 'teacher' needs a teacher, which only the sequence tasks have/);
    expect(usage(['--behaviour', 'mix:2'])).toMatch(/^--behaviour: 'mix:2' is not accepted; expected stale, teacher or mix:P/);
    expect(usage(['--advantage', 'group'])).toMatch(/^--advantage group: needs a sequence task/);
    expect(usage(['--ratio', 'sequence', '--env', 'CartPole-v1'])).toMatch(/^--ratio sequence: needs a sequence task/);
    expect(usage([...SEQ, '--seq-vocab', '1'])).toMatch(/^--seq-vocab: '1' is not accepted; expected an integer >= 2/);
  });

  it('the seq preset is valid and whole responses per segment', () => {
    const c = buildConfig(argvOf(['--preset', 'seq', '--run-dir', '/tmp/x']));
    expect(c.segmentSteps).toBe(c.seqLength);
    expect(c.envsPerWorker % c.groupSize).toBe(0);
    expect(Object.keys(PRESETS.seq.sources).length).toBeGreaterThan(5);
  });
});

describe('the rollout source array', () => {
  const env = envSpecOf('CartPole-v1');
  it('round-trips through the codec; absent encodes as all policy', () => {
    const m: RolloutMsg = { ...makeRollout(3, 4), source: Uint8Array.from([1, 0, 1, 0]) };
    const back = decode(encode(m));
    expect(back.ok).toBe(true);
    expect(Array.from((back as { msg: RolloutMsg }).msg.source!)).toEqual([1, 0, 1, 0]);
    const plain = makeRollout(3, 4);
    delete plain.source;
    expect(Array.from((decode(encode(plain)) as { msg: RolloutMsg }).msg.source!)).toEqual([0, 0, 0, 0]);
  });

  it('a wrong length or a value other than 0 and 1 is rejected', () => {
    const m: RolloutMsg = { ...makeRollout(3, 4), source: Uint8Array.from([1, 0, 2, 0]) };
    expect(validateRollout(m, env)).toMatch(/BAD_FLAG: rollout.source\[2\] is 2/);
    expect(validateRollout({ ...m, source: new Uint8Array(3) }, env)).toMatch(/rollout.source/);
    expect(validateRollout({ ...m, type: MsgType.Rollout, source: new Uint8Array(4) }, env)).toBeNull();
  });
});
