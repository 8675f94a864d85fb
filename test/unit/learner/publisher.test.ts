import { describe, expect, it } from 'vitest';
import { ParamPublisher } from '../../../learner/publisher.js';
import { decode, encode } from '../../../protocol/codec.js';
import { MsgType, type Message } from '../../../protocol/messages.js';

function rig(history = 2) {
  const sent: Array<[string, Message]> = [];
  const pub = new ParamPublisher(
    async (p, m) => {
      sent.push([p.toString(), m]);
      return true;
    },
    77,
    history,
  );
  const versions = () => sent.map(([p, m]) => [p, m.type === MsgType.Params ? m.version : -1]);
  return { pub, sent, versions };
}

describe('ParamPublisher', () => {
  it('sends nothing on publish; a hello gets the newest version only (a hello buys one message)', async () => {
    const { pub, sent, versions } = rig();
    pub.publish(0, Float32Array.of(0));
    pub.publish(1, Float32Array.of(1));
    pub.publish(2, Float32Array.of(2));
    expect(sent).toEqual([]);
    await pub.welcome(Buffer.from('c'));
    expect(sent.map(([p, m]) => [p, m.type === MsgType.Params ? [m.version, m.modelHash, m.params[0]] : null])).toEqual([
      ['c', [2, 77, 2]],
    ]);
    expect(versions()).toEqual([['c', 2]]);
    expect(pub.history.has(0)).toBe(false);
  });

  it('refresh sends the newest version at most once per peer and version, however many versions were published', async () => {
    const { pub, versions } = rig(4);
    const a = Buffer.from('a'),
      b = Buffer.from('b');
    pub.publish(0, Float32Array.of(0));
    await pub.welcome(a);
    await pub.refresh(a); // has v0 already
    for (let v = 1; v <= 5; v++) pub.publish(v, Float32Array.of(v));
    await pub.refresh(a);
    await pub.refresh(a);
    await pub.refresh(b); // never welcomed: gets the newest too
    pub.publish(6, Float32Array.of(6));
    await pub.refresh(b);
    pub.forget(b);
    await pub.refresh(b); // forgotten: sent again
    expect(versions()).toEqual([
      ['a', 0],
      ['a', 5],
      ['b', 5],
      ['b', 6],
      ['b', 6],
    ]);
    expect(pub.counts.messages).toBe(5);
  });

  it('encodes each version once, whatever the number of peers, and counts the bytes sent', async () => {
    const { pub, sent } = rig();
    const params = Float32Array.from({ length: 1000 }, (_, i) => i / 7);
    pub.publish(3, params);
    const peers = Array.from({ length: 50 }, (_, i) => Buffer.from(`p${i}`));
    for (const p of peers) await pub.refresh(p);
    expect(pub.counts.encoded).toBe(1);
    const first = encode(sent[0][1]);
    for (const [, m] of sent) expect(encode(m)).toBe(first); // the very same bytes, not a copy
    expect(pub.counts.bytes).toBe(50 * first.length);
    expect(first.length).toBeGreaterThan(4000);
    pub.publish(4, params);
    await pub.refresh(peers[0]);
    expect(pub.counts.encoded).toBe(2);
    expect(encode(sent.at(-1)![1])).not.toBe(first);
  });

  it('a failed send is forgotten, so the next refresh sends again', async () => {
    let ok = false;
    const sent: number[] = [];
    const pub = new ParamPublisher(
      async (_p, m) => {
        if (m.type === MsgType.Params) sent.push(m.version);
        return ok;
      },
      1,
      2,
    );
    const a = Buffer.from('a');
    pub.publish(0, Float32Array.of(0));
    await pub.welcome(a);
    ok = true;
    await pub.refresh(a);
    await pub.refresh(a);
    expect(sent).toEqual([0, 0]);
  });

  it("every parameter message carries the learner's run id, through the codec (an actor names its folder after it)", async () => {
    const sent: Message[] = [];
    const pub = new ParamPublisher(
      async (_p, m) => {
        sent.push(m);
        return true;
      },
      77,
      2,
      'CartPole-v1_ppo_none_s1_20261206T012330',
    );
    pub.publish(0, Float32Array.of(0));
    await pub.welcome(Buffer.from('a'));
    const back = decode(encode(sent[0]!));
    expect(back.ok && back.msg.type === MsgType.Params && back.msg.runId).toBe('CartPole-v1_ppo_none_s1_20261206T012330');
  });
});
