import { Outbox } from './outbox';

describe('Outbox', () => {
  it('cuts records into size-bounded groups, keeping their order per topic', () => {
    const outbox = new Outbox();
    for (let i = 0; i < 5; i++) outbox.add('a', { key: null, value: Buffer.alloc(100, i) });
    outbox.add('b', { key: null, value: Buffer.alloc(100) });
    const groups = outbox.chunks(350);
    expect(groups.map((g) => g.map((t) => [t.topic, t.messages.length]))).toEqual([[['a', 2]], [['a', 2]], [['a', 1], ['b', 1]]]);
    expect(groups.flat().filter((t) => t.topic === 'a').flatMap((t) => t.messages.map((m) => (m.value as Buffer)[0]))).toEqual([0, 1, 2, 3, 4]);
    expect([outbox.size, outbox.chunks(1_000_000)]).toEqual([6, [[{ topic: 'a', messages: outbox.messages('a') }, { topic: 'b', messages: outbox.messages('b') }]]]);
  });

  it('also bounds the records per group', () => {
    const outbox = new Outbox();
    for (let i = 0; i < 5; i++) outbox.add('a', { key: null, value: Buffer.alloc(10, i) });
    outbox.add('b', { key: null, value: Buffer.alloc(10) });
    const groups = outbox.chunks(1_000_000, 2);
    expect(groups.map((g) => g.map((t) => [t.topic, t.messages.length]))).toEqual([[['a', 2]], [['a', 2]], [['a', 1], ['b', 1]]]);
    expect(groups.flat().flatMap((t) => t.messages.map((m) => `${t.topic}${(m.value as Buffer)[0]}`))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
  });
});
