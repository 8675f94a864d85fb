import { describe, expect, it } from 'vitest';
import { ParamPublisher } from '../../../learner/publisher.js';
import { MsgType, type Message } from '../../../protocol/messages.js';

describe('ParamPublisher', () => {
  it('sends each version to the given peers and the newest version only to a newcomer (a hello buys one message)', async () => {
    const sent: Array<[string, Message]> = [];
    const pub = new ParamPublisher(
      async (p, m) => {
        sent.push([p.toString(), m]);
        return true;
      },
      77,
      2,
    );
    const a = Buffer.from('a'),
      b = Buffer.from('b');
    await pub.publish(0, Float32Array.of(0), []);
    await pub.publish(1, Float32Array.of(1), [a, b]);
    await pub.publish(2, Float32Array.of(2), [a]);
    expect(sent.map(([p, m]) => [p, m.type === MsgType.Params ? m.version : -1])).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ]);
    sent.length = 0;
    await pub.welcome(Buffer.from('c'));
    expect(sent.map(([p, m]) => [p, m.type === MsgType.Params ? [m.version, m.modelHash, m.params[0]] : null])).toEqual([
      ['c', [2, 77, 2]],
    ]);
    expect(pub.history.has(0)).toBe(false);
  });
});
