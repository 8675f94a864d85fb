/** asEnvRuntimeError: an EnvRuntimeError recognised also after it crossed a thread (message and stack only). */
import { describe, expect, it } from 'vitest';
import { asEnvRuntimeError, EnvRuntimeError } from '../../../envs/check.js';

describe('asEnvRuntimeError', () => {
  const e = new EnvRuntimeError('My-v0', "env 'My-v0': step returned observation[0] = NaN");

  it('keeps an EnvRuntimeError as it is', () => {
    expect(asEnvRuntimeError(e)).toBe(e);
  });

  it('recognises one that crossed a thread by structured clone (its class lost, its stack kept), env id from the message', () => {
    const cloned = structuredClone(e);
    expect(cloned).not.toBeInstanceOf(EnvRuntimeError);
    const back = asEnvRuntimeError(cloned)!;
    expect(back).toBeInstanceOf(EnvRuntimeError);
    expect(back.envId).toBe('My-v0');
    expect(back.message).toBe(e.message);
  });

  it('is null for any other error', () => {
    expect(asEnvRuntimeError(new Error("env 'My-v0': step returned observation[0] = NaN"))).toBeNull();
    expect(asEnvRuntimeError(new RangeError('x'))).toBeNull();
    expect(asEnvRuntimeError('EnvRuntimeError: no')).toBeNull();
  });
});
