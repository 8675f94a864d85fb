import { describe, expect, it } from 'vitest';
import { learnerMessage, toLauncher, type LearnerToLauncher } from '../../../protocol/ipc.js';

describe('learner-to-launcher IPC', () => {
  it('sends through the process channel, and does nothing without one', () => {
    const got: unknown[] = [];
    toLauncher(
      { type: 'stopping', reason: 'r' },
      {
        send: ((m: unknown) => {
          got.push(m);
          return true;
        }) as NodeJS.Process['send'],
      },
    );
    toLauncher({ type: 'stopping', reason: 'r' }, { send: undefined });
    expect(got).toEqual([{ type: 'stopping', reason: 'r' }]);
  });

  it('accepts each message of the union and refuses anything else', () => {
    const good: LearnerToLauncher[] = [
      { type: 'ready', endpoint: 'tcp://127.0.0.1:1', backend: 'cpu' },
      { type: 'stopping', reason: 'SIGTERM' },
    ];
    for (const m of good) expect(learnerMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(learnerMessage({ type: 'update', record: { kind: 'update', version: 3 } })).toMatchObject({
      type: 'update',
      record: { version: 3 },
    });
    expect(learnerMessage({ type: 'summary', summary: { kind: 'summary', version: 3 } })).toMatchObject({ type: 'summary' });
    for (const bad of [
      null,
      7,
      'ready',
      { type: 'ready', endpoint: 1, backend: 'cpu' },
      { type: 'update', record: { kind: 'summary' } },
      { type: 'summary' },
      { type: 'stopping' },
      { type: 'hello' },
    ])
      expect(learnerMessage(bad)).toBeNull();
  });
});
