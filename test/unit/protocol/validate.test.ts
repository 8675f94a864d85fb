import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../protocol/codec.js';
import { reasonCode } from '../../../protocol/errors.js';
import { MsgType, type HelloMsg, type ParamsMsg, type RolloutMsg } from '../../../protocol/messages.js';
import { validateHello, validateParams, validateRollout } from '../../../protocol/validate.js';
import { CARTPOLE, makeRollout } from './helpers.js';

/** Apply `edit` to a fresh valid rollout and validate it. */
function check(edit: (m: RolloutMsg) => RolloutMsg | void, T = 4, E = 3): string | null {
  const m = makeRollout(T, E, 4, { truncateEvery: 5 });
  return validateRollout(edit(m) ?? m, CARTPOLE);
}

describe('validateRollout', () => {
  it('accepts valid rollouts, also after a codec round trip', () => {
    expect(check(() => {})).toBeNull();
    const m = makeRollout(32, 8, 4, { truncateEvery: 7, episodes: 0 });
    const r = decode(encode(m));
    expect(r.ok && r.msg.type === MsgType.Rollout ? validateRollout(r.msg, CARTPOLE) : 'not ok').toBeNull();
  });

  it('accepts terminated and truncated on the same step (Gymnasium allows both)', () => {
    expect(
      check((m) => {
        const i = m.truncated.indexOf(1);
        m.terminated[i] = 1;
      }),
    ).toBeNull();
  });

  it('NaN reward names the index', () => {
    const r = check(
      (m) => {
        m.rewards[17] = NaN;
      },
      8,
      4,
    );
    expect(r).toBe('NOT_FINITE: rollout.rewards[17] is NaN');
    expect(reasonCode(r!)).toBe('NOT_FINITE');
  });

  it.each([
    [
      'obs',
      (m: RolloutMsg) => {
        m.obs[5] = Infinity;
      },
      'rollout.obs[5] is Infinity',
    ],
    [
      'lastObs',
      (m: RolloutMsg) => {
        m.lastObs[0] = -Infinity;
      },
      'rollout.lastObs[0] is -Infinity',
    ],
    [
      'finalObs',
      (m: RolloutMsg) => {
        m.finalObs[1] = NaN;
      },
      'rollout.finalObs[1] is NaN',
    ],
    [
      'logmu',
      (m: RolloutMsg) => {
        m.logmu[2] = NaN;
      },
      'rollout.logmu[2] is NaN',
    ],
    [
      'episodeReturns',
      (m: RolloutMsg) => {
        m.episodeReturns[1] = NaN;
      },
      'rollout.episodeReturns[1] is NaN',
    ],
  ])('non-finite %s', (_f, edit, detail) => {
    expect(check(edit)).toBe(`NOT_FINITE: ${detail}`);
  });

  it('bad action, both signs', () => {
    expect(
      check((m) => {
        m.actions[3] = 2;
      }),
    ).toBe('BAD_ACTION: rollout.actions[3] is 2, expected 0 <= a < 2');
    expect(
      check((m) => {
        m.actions[0] = -1;
      }),
    ).toMatch(/^BAD_ACTION: rollout.actions\[0\] is -1/);
  });

  it('wrong obsDim', () => {
    const m = makeRollout(2, 2, 5);
    expect(validateRollout(m, CARTPOLE)).toBe('SHAPE_MISMATCH: rollout.obsDim is 5, env CartPole-v1 has obsDim 4');
  });

  it('T or E of 0, T * E too large', () => {
    expect(check((m) => ({ ...m, T: 0 }))).toMatch(/^SHAPE_MISMATCH: rollout T is 0/);
    expect(check((m) => ({ ...m, E: 0 }))).toMatch(/^SHAPE_MISMATCH/);
    expect(reasonCode(check((m) => ({ ...m, T: 4096, E: 4096 }))!)).toBe('TOO_LARGE');
  });

  it('array lengths that disagree with the declared shape', () => {
    expect(check((m) => ({ ...m, rewards: m.rewards.subarray(1) }))).toBe(
      'SHAPE_MISMATCH: rollout.rewards has length 11, expected T * E = 12',
    );
    expect(check((m) => ({ ...m, lastObs: new Float32Array(4) }))).toMatch(/^SHAPE_MISMATCH: rollout.lastObs/);
    expect(check((m) => ({ ...m, episodeLengths: new Int32Array(0) }))).toMatch(/^SHAPE_MISMATCH: rollout.episodeLengths has length 0/);
  });

  it('finalObs must hold one observation per truncated step', () => {
    expect(
      check((m) => {
        m.truncated[0] = 1;
      }),
    ).toBe('SHAPE_MISMATCH: rollout.finalObs has length 8, expected count(truncated) * obsDim = 12');
    expect(check((m) => ({ ...m, finalObs: new Float32Array(0) }))).toMatch(/^SHAPE_MISMATCH: rollout.finalObs/);
  });

  it('flags other than 0/1', () => {
    expect(
      check((m) => {
        m.terminated[2] = 2;
      }),
    ).toBe('BAD_FLAG: rollout.terminated[2] is 2, expected 0 or 1');
    expect(
      check((m) => {
        m.truncated[1] = 255;
      }),
    ).toMatch(/^BAD_FLAG: rollout.truncated\[1\] is 255/);
  });

  it('positive log mu, with a slack for rounding', () => {
    expect(
      check((m) => {
        m.logmu[4] = 0.5;
      }),
    ).toBe('BAD_LOGPROB: rollout.logmu[4] is 0.5, expected <= 0');
    expect(
      check((m) => {
        m.logmu[4] = 0;
      }),
    ).toBeNull();
    expect(
      check((m) => {
        m.logmu[4] = 5e-7;
      }),
    ).toBeNull();
  });

  it('episode length below 1', () => {
    expect(
      check((m) => {
        m.episodeLengths[1] = 0;
      }),
    ).toBe('BAD_EPISODE: rollout.episodeLengths[1] is 0, expected >= 1');
  });
});

describe('validateHello', () => {
  const hello: HelloMsg = {
    type: MsgType.Hello,
    actorId: 1,
    envId: 'CartPole-v1',
    obsDim: 4,
    nActions: 2,
    numEnvs: 8,
    modelHash: 1234,
    incarnation: 7,
  };
  const expected = { modelHash: 1234, env: CARTPOLE };

  it('accepts a matching hello', () => {
    expect(validateHello(hello, expected)).toBeNull();
  });

  it('wrong model hash', () => {
    expect(validateHello({ ...hello, modelHash: 99 }, expected)).toBe(
      "MODEL_HASH: hello.modelHash is 99, the learner's is 1234 (the network or the environment spec differs: check --hidden, --env and --env-module)",
    );
  });

  it('wrong env id, obsDim, nActions; no envs', () => {
    expect(validateHello({ ...hello, envId: 'Acrobot-v1' }, expected)).toMatch(/^ENV_MISMATCH: hello.envId is 'Acrobot-v1'/);
    expect(validateHello({ ...hello, obsDim: 6 }, expected)).toMatch(/^ENV_MISMATCH: hello.obsDim is 6/);
    expect(validateHello({ ...hello, nActions: 3 }, expected)).toMatch(/^ENV_MISMATCH: hello.nActions is 3/);
    expect(validateHello({ ...hello, numEnvs: 0 }, expected)).toMatch(/^SHAPE_MISMATCH: hello.numEnvs is 0/);
  });
});

describe('validateParams', () => {
  const params: ParamsMsg = { type: MsgType.Params, version: 3, modelHash: 7, params: Float32Array.from([0.5, -1, 2]) };
  const expected = { modelHash: 7, paramCount: 3 };

  it('accepts matching params', () => {
    expect(validateParams(params, expected)).toBeNull();
  });

  it('wrong hash, wrong count, non-finite', () => {
    expect(validateParams({ ...params, modelHash: 8 }, expected)).toMatch(/^MODEL_HASH: params.modelHash is 8/);
    expect(validateParams(params, { ...expected, paramCount: 4 })).toBe(
      'SHAPE_MISMATCH: params.params has length 3, expected paramCount = 4',
    );
    expect(validateParams({ ...params, params: Float32Array.from([0, NaN, 1]) }, expected)).toBe('NOT_FINITE: params.params[1] is NaN');
  });
});
