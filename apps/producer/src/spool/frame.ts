/**
 * One spooled record on disk:
 *
 *   u32 body length | u32 crc32(body) | body
 *   body = u8 version (1) | f64 spooled-at epoch ms | u16 topic length | topic (UTF-8)
 *        | i32 key length (-1: no key) | key | u16 header count | (u16 name length | name | u32 value length | value)*
 *        | value (the rest of the body)
 *
 * All integers big-endian. The CRC covers the body, so a torn or corrupted tail is detected on recovery.
 */
import { crc32 } from 'node:zlib';

export interface OutRecord {
  topic: string;
  key: string | null;
  value: Buffer;
  headers?: Record<string, string> | undefined;
}

export interface SpooledRecord extends OutRecord {
  spooledAt: number;
}

export const FRAME_HEADER_BYTES = 8;
const VERSION = 1;

/** Encodes a record as one frame (header + body). */
export function encodeFrame(record: OutRecord, spooledAt: number): Buffer {
  const topic = Buffer.from(record.topic, 'utf8');
  const key = record.key === null ? undefined : Buffer.from(record.key, 'utf8');
  const headers = Object.entries(record.headers ?? {}).map(([name, value]) => [Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8')] as const);
  let bodyLength = 1 + 8 + 2 + topic.length + 4 + (key?.length ?? 0) + 2 + record.value.length;
  for (const [name, value] of headers) bodyLength += 2 + name.length + 4 + value.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength);
  let at = FRAME_HEADER_BYTES;
  at = frame.writeUInt8(VERSION, at);
  at = frame.writeDoubleBE(spooledAt, at);
  at = frame.writeUInt16BE(topic.length, at);
  at += topic.copy(frame, at);
  at = frame.writeInt32BE(key === undefined ? -1 : key.length, at);
  if (key !== undefined) at += key.copy(frame, at);
  at = frame.writeUInt16BE(headers.length, at);
  for (const [name, value] of headers) {
    at = frame.writeUInt16BE(name.length, at);
    at += name.copy(frame, at);
    at = frame.writeUInt32BE(value.length, at);
    at += value.copy(frame, at);
  }
  record.value.copy(frame, at);
  const body = frame.subarray(FRAME_HEADER_BYTES);
  frame.writeUInt32BE(bodyLength, 0);
  frame.writeUInt32BE(crc32(body), 4);
  return frame;
}

export type FrameScan =
  | { kind: 'frame'; record: SpooledRecord; size: number }
  /** Not enough bytes for a whole frame; `needed` is the frame's full size when the header was readable. */
  | { kind: 'partial'; needed?: number }
  | { kind: 'corrupt'; reason: string };

/** Reads the frame at `offset` of `buf`. Never throws: a short or damaged frame is reported as such. */
export function decodeFrame(buf: Buffer, offset: number, maxFrameBytes: number): FrameScan {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'partial' };
  const bodyLength = buf.readUInt32BE(offset);
  if (bodyLength < 1 + 8 + 2 + 4 + 2 || FRAME_HEADER_BYTES + bodyLength > maxFrameBytes) return { kind: 'corrupt', reason: `implausible frame length ${bodyLength}` };
  const size = FRAME_HEADER_BYTES + bodyLength;
  if (buf.length - offset < size) return { kind: 'partial', needed: size };
  const body = buf.subarray(offset + FRAME_HEADER_BYTES, offset + size);
  if (crc32(body) !== buf.readUInt32BE(offset + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' };
  try {
    let at = 0;
    if (body.readUInt8(at) !== VERSION) return { kind: 'corrupt', reason: `unknown frame version ${body.readUInt8(at)}` };
    at += 1;
    const spooledAt = body.readDoubleBE(at);
    at += 8;
    const topicLength = body.readUInt16BE(at);
    at += 2;
    const topic = body.toString('utf8', at, at + topicLength);
    at += topicLength;
    const keyLength = body.readInt32BE(at);
    at += 4;
    let key: string | null = null;
    if (keyLength >= 0) {
      key = body.toString('utf8', at, at + keyLength);
      at += keyLength;
    }
    const headerCount = body.readUInt16BE(at);
    at += 2;
    let headers: Record<string, string> | undefined;
    for (let i = 0; i < headerCount; i++) {
      const nameLength = body.readUInt16BE(at);
      at += 2;
      const name = body.toString('utf8', at, at + nameLength);
      at += nameLength;
      const valueLength = body.readUInt32BE(at);
      at += 4;
      (headers ??= {})[name] = body.toString('utf8', at, at + valueLength);
      at += valueLength;
    }
    if (at > body.length) return { kind: 'corrupt', reason: 'fields overrun the frame' };
    // Copy: the read buffer is reused and records outlive it while Kafka acknowledges them.
    const value = Buffer.from(body.subarray(at));
    return { kind: 'frame', size, record: { topic, key, value, headers, spooledAt } };
  } catch (err) {
    return { kind: 'corrupt', reason: err instanceof Error ? err.message : String(err) };
  }
}
