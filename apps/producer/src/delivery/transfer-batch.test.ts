import fc from 'fast-check';
import type { OutRecord } from '../spool/frame';
import { decodeTransferBatch, encodeTransferBatch } from './transfer-batch';

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }));
const outRecord: fc.Arbitrary<OutRecord> = fc.record({
  topic: fc.constantFrom('events.raw', 'events.dlq', 'tópico'),
  key: fc.option(text, { nil: null }),
  value: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  headers: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), text, { maxKeys: 4 }), { nil: undefined }),
});

/** What kafkajs should receive for `records`: grouped by topic in order of first appearance, keys as UTF-8 bytes. */
function expected(records: OutRecord[]) {
  const byTopic = new Map<string, Array<{ key: string | null; value: string; headers: Record<string, string> | undefined }>>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (list === undefined) byTopic.set(r.topic, (list = []));
    const headers = r.headers === undefined || Object.keys(r.headers).length === 0 ? undefined : r.headers;
    list.push({ key: r.key, value: r.value.toString('hex'), headers });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function actual(batch: ArrayBuffer) {
  const { topicMessages, count } = decodeTransferBatch(batch);
  return {
    count,
    topics: topicMessages.map(({ topic, messages }) => ({
      topic,
      messages: messages.map((m) => ({ key: m.key === null || m.key === undefined ? null : (m.key as Buffer).toString('utf8'), value: (m.value as Buffer).toString('hex'), headers: m.headers as Record<string, string> | undefined })),
    })),
  };
}

describe('transfer batches', () => {
  it('hand kafkajs every record, grouped by topic, in order, with keys, values and headers intact', () => {
    fc.assert(
      fc.property(fc.array(outRecord, { maxLength: 80 }), (records) => {
        const decoded = actual(encodeTransferBatch(records));
        expect(decoded.count).toBe(records.length);
        expect(decoded.topics).toEqual(expected(records));
      }),
      { numRuns: 300 },
    );
  });

  it('are one ArrayBuffer of their own that can be transferred, and values are views into it, not copies', () => {
    const records: OutRecord[] = [
      { topic: 't', key: 'user-1', value: Buffer.from('{"a":1}') },
      { topic: 't', key: null, value: Buffer.from('{"b":2}') },
    ];
    const batch = encodeTransferBatch(records);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(batch, [batch]);
    expect(batch.byteLength).toBe(0);
    port1.close();
    port2.close();

    const again = encodeTransferBatch(records);
    const message = decodeTransferBatch(again).topicMessages[0]?.messages[0];
    expect((message?.value as Buffer).buffer).toBe(again);
  });

  it('refuse a truncated or padded buffer', () => {
    const batch = new Uint8Array(encodeTransferBatch([{ topic: 't', key: 'k', value: Buffer.from('value') }]));
    expect(() => decodeTransferBatch(batch.slice(0, batch.length - 2).buffer)).toThrow(RangeError);
    const padded = new Uint8Array(batch.length + 3);
    padded.set(batch);
    expect(() => decodeTransferBatch(padded.buffer)).toThrow(/left over/);
  });
});
