import { describe, expect, it } from 'vitest';
import { learnerMessage, toLauncher, UpdateRelay, type LearnerToLauncher } from '../../../protocol/ipc.js';
import type { UpdateRecord } from '../../../protocol/records.js';

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
      { type: 'updates', records: [{ kind: 'update' }, { kind: 'summary' }] },
      { type: 'updates', records: 'x' },
      { type: 'summary' },
      { type: 'stopping' },
      { type: 'hello' },
    ])
      expect(learnerMessage(bad)).toBeNull();
  });

  it('relays update records in batches, every one in order, flushed at once on demand', async () => {
    const got: LearnerToLauncher[] = [];
    const proc = {
      send: ((m: unknown) => {
        const ok = learnerMessage(JSON.parse(JSON.stringify(m)));
        if (ok) got.push(ok);
        return true;
      }) as NodeJS.Process['send'],
    };
    const rec = (version: number) => ({ kind: 'update', version }) as unknown as UpdateRecord;
    const relay = new UpdateRelay(proc, 30);
    for (let v = 1; v <= 5; v++) relay.add(rec(v));
    expect(got).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'updates', records: [1, 2, 3, 4, 5].map((version) => ({ version })) });
    relay.add(rec(6));
    relay.flush();
    relay.flush();
    expect(got).toHaveLength(2);
    expect(got[1]).toMatchObject({ type: 'update', record: { version: 6 } });
    const silent = new UpdateRelay({ send: undefined }, 1);
    silent.add(rec(1));
    silent.flush();
  });
});
