/**
 * The in-memory form of a micro-batch on its way to the Kafka worker thread: one ArrayBuffer (so
 * it is transferred, not cloned) that the worker reads without copying. Unlike a spool frame it has
 * no checksum and no spool time: it never touches a disk and lives only until Kafka acknowledges.
 *
 *   u32 record count | u16 topic count | (u16 length | topic)*
 *   record = u16 topic index | i32 key length (-1: no key) | key
 *          | u16 header count | (u16 name length | name | u32 value length | value)*
 *          | u32 value length | value
 *
 * Integers little-endian; strings UTF-8.
 */
import type { IHeaders, Message, TopicMessages } from 'kafkajs';
import type { OutRecord } from '../spool/frame';

/** Encodes `records` into one buffer, in order. */
export function encodeTransferBatch(records: readonly OutRecord[]): ArrayBuffer {
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  const keyLengths = new Int32Array(records.length);
  let size = 4 + 2;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as OutRecord;
    if (!topicIndex.has(r.topic)) {
      topicIndex.set(r.topic, topics.length);
      topics.push(r.topic);
      size += 2 + Buffer.byteLength(r.topic, 'utf8');
    }
    const keyLength = r.key === null ? -1 : Buffer.byteLength(r.key, 'utf8');
    keyLengths[i] = keyLength;
    size += 2 + 4 + Math.max(keyLength, 0) + 2 + 4 + r.value.length;
    if (r.headers !== undefined) for (const name of Object.keys(r.headers)) size += 2 + Buffer.byteLength(name, 'utf8') + 4 + Buffer.byteLength(r.headers[name] as string, 'utf8');
  }
  if (topics.length > 0xffff) throw new RangeError('too many topics in one batch');

  // Its own memory (never the shared pool), since it is handed over; every byte is written below.
  const buf = Buffer.allocUnsafeSlow(size);
  let at = buf.writeUInt32LE(records.length, 0);
  at = buf.writeUInt16LE(topics.length, at);
  for (const topic of topics) at = writeShortString(buf, topic, at);
  let lastTopic: string | undefined;
  let lastIndex = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as OutRecord;
    if (r.topic !== lastTopic) {
      lastTopic = r.topic;
      lastIndex = topicIndex.get(r.topic) as number;
    }
    at = buf.writeUInt16LE(lastIndex, at);
    const keyLength = keyLengths[i] as number;
    at = buf.writeInt32LE(keyLength, at);
    if (r.key !== null) at += buf.write(r.key, at, keyLength, 'utf8');
    if (r.headers === undefined) {
      at = buf.writeUInt16LE(0, at);
    } else {
      const names = Object.keys(r.headers);
      at = buf.writeUInt16LE(names.length, at);
      for (const name of names) {
        at = writeShortString(buf, name, at);
        const value = r.headers[name] as string;
        const length = Buffer.byteLength(value, 'utf8');
        at = buf.writeUInt32LE(length, at);
        at += buf.write(value, at, length, 'utf8');
      }
    }
    at = buf.writeUInt32LE(r.value.length, at);
    buf.set(r.value, at);
    at += r.value.length;
  }
  if (at !== size) throw new RangeError(`transfer batch: wrote ${at} of ${size} bytes`);
  return buf.buffer as ArrayBuffer;
}

/**
 * Reads a batch back as kafkajs messages grouped by topic (topics in order of first appearance,
 * records in order within each). Keys and values are views into `batch`, not copies.
 * Throws RangeError when the buffer does not hold a whole batch.
 */
export function decodeTransferBatch(batch: ArrayBuffer): { topicMessages: TopicMessages[]; count: number } {
  const buf = Buffer.from(batch);
  const count = buf.readUInt32LE(0);
  const topicCount = buf.readUInt16LE(4);
  let at = 6;
  const topicMessages: TopicMessages[] = [];
  for (let t = 0; t < topicCount; t++) {
    const length = buf.readUInt16LE(at);
    at += 2;
    topicMessages.push({ topic: buf.toString('utf8', at, at + length), messages: [] });
    at += length;
  }
  for (let i = 0; i < count; i++) {
    const group = topicMessages[buf.readUInt16LE(at)];
    if (group === undefined) throw new RangeError('transfer batch: topic index out of range');
    at += 2;
    const keyLength = buf.readInt32LE(at);
    at += 4;
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      key = slice(buf, at, keyLength);
      at += keyLength;
    }
    const headerCount = buf.readUInt16LE(at);
    at += 2;
    let headers: IHeaders | undefined;
    for (let h = 0; h < headerCount; h++) {
      const nameLength = buf.readUInt16LE(at);
      at += 2;
      const name = buf.toString('utf8', at, at + nameLength);
      at += nameLength;
      const valueLength = buf.readUInt32LE(at);
      at += 4;
      // defineProperty: a header named `__proto__` is data, not the object's prototype.
      Object.defineProperty((headers ??= {}), name, { value: buf.toString('utf8', at, at + valueLength), enumerable: true, writable: true, configurable: true });
      at += valueLength;
    }
    const valueLength = buf.readUInt32LE(at);
    at += 4;
    const value = slice(buf, at, valueLength);
    at += valueLength;
    const message: Message = headers === undefined ? { key, value } : { key, value, headers };
    group.messages.push(message);
  }
  if (at !== buf.length) throw new RangeError(`transfer batch: ${buf.length - at} bytes left over`);
  return { topicMessages, count };
}

function writeShortString(buf: Buffer, text: string, at: number): number {
  const length = Buffer.byteLength(text, 'utf8');
  if (length > 0xffff) throw new RangeError('string longer than 65535 bytes');
  at = buf.writeUInt16LE(length, at);
  return at + buf.write(text, at, length, 'utf8');
}

function slice(buf: Buffer, at: number, length: number): Buffer {
  if (at + length > buf.length) throw new RangeError('transfer batch: field overruns the buffer');
  return buf.subarray(at, at + length);
}
