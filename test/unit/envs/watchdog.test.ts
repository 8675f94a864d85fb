/**
 * The env watchdog's cell and poll (envs/watchdog.ts), driven with explicit clock readings: a
 * call in progress across polls spanning the timeout fires once, naming the call; calls that
 * return (however many) never fire; and a ManagedEnv marks its step() calls in the cell.
 */
import { describe, expect, it } from 'vitest';
import { attachEnvBeacon, EnvCall, enterEnvCall, envHangMessage, EnvWatchdog, leaveEnvCall, newEnvBeacon } from '../../../envs/watchdog.js';
import { makeManagedEnv } from '../../../envs/registry.js';
import { Rng } from '../../../model/rng.js';

describe('EnvWatchdog', () => {
  it('fires once for one call that has not returned for the timeout, naming it', () => {
    const sab = newEnvBeacon();
    attachEnvBeacon(sab);
    const hangs: string[] = [];
    const dog = new EnvWatchdog(sab, 1000, (h) => hangs.push(envHangMessage('X-v0', h, 'actor 0, worker 1')));
    enterEnvCall(EnvCall.step);
    expect(dog.poll(0)).toBeNull(); // first sight of this call
    expect(dog.poll(999)).toBeNull();
    expect(dog.poll(1500)).toEqual({ call: 'step()', ms: 1500 });
    expect(dog.poll(5000)).toBeNull(); // stopped: fires once
    expect(hangs).toEqual([
      "environment 'X-v0': step() did not return within 1.5 s (--env-timeout) in actor 0, worker 1; the worker thread was stopped",
    ]);
    leaveEnvCall();
  });

  it('never fires while calls return, nor while idle', () => {
    const sab = newEnvBeacon();
    attachEnvBeacon(sab);
    let fired = 0;
    const dog = new EnvWatchdog(sab, 100, () => fired++);
    for (let t = 0; t < 10_000; t += 50) {
      enterEnvCall(EnvCall.reset); // a new call at every poll: never the same one twice
      expect(dog.poll(t)).toBeNull();
      leaveEnvCall();
    }
    for (let t = 10_000; t < 20_000; t += 500) expect(dog.poll(t)).toBeNull(); // idle
    dog.stop();
    expect(fired).toBe(0);
  });

  it("a managed environment's step() is marked in the cell while it runs", () => {
    const sab = newEnvBeacon();
    attachEnvBeacon(sab);
    const cell = new Int32Array(sab);
    const env = makeManagedEnv('CartPole-v1');
    env.reset(new Rng(1));
    expect(cell[0]! & 7).toBe(0); // reset() returned
    const before = cell[0]!;
    env.step(0);
    expect(cell[0]! & 7).toBe(0);
    expect(cell[0]).not.toBe(before); // one more call was marked
  });
});
