import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { decodeFrame, encodeFrame, type OutRecord } from './frame';
import { Spool, SpoolFullError } from './spool';

const log = pino({ level: 'silent' });
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(i: number, size = 50): OutRecord {
  return { topic: 'events.raw', key: i % 3 === 0 ? null : `user-${i}`, value: Buffer.from(`v${i}`.padEnd(size, '.')), headers: i % 2 === 0 ? { 'x-dlq-reason': `r${i}` } : undefined };
}

async function drainAll(spool: Spool): Promise<OutRecord[]> {
  const out: OutRecord[] = [];
  for (;;) {
    const chunk = await spool.read(7, 1_000);
    if (chunk === undefined || chunk.records.length === 0) return out;
    out.push(...chunk.records);
    await spool.commit(chunk);
  }
}

const open = (opts: Partial<{ maxBytes: number; segmentBytes: number }> = {}) =>
  Spool.open({ dir, maxBytes: opts.maxBytes ?? 10_000_000, segmentBytes: opts.segmentBytes ?? 1_000_000, log, now: () => 1_700_000_000_000 });

describe('spool frames', () => {
  it('round-trips topic, null and string keys, headers and value', () => {
    for (const r of [record(0), record(1), { topic: 't', key: '', value: Buffer.alloc(0) }]) {
      const scan = decodeFrame(encodeFrame(r, 42), 0, 1 << 20);
      expect(scan).toEqual({ kind: 'frame', size: expect.any(Number), record: { ...r, headers: r.headers && Object.keys(r.headers).length > 0 ? r.headers : undefined, spooledAt: 42 } });
    }
  });

  it('reports a flipped byte as corrupt and a cut frame as partial', () => {
    const frame = encodeFrame(record(1), 1);
    const flipped = Buffer.from(frame);
    flipped[frame.length - 1] = (flipped[frame.length - 1] as number) ^ 0xff;
    expect(decodeFrame(flipped, 0, 1 << 20)).toMatchObject({ kind: 'corrupt', reason: 'checksum mismatch' });
    expect(decodeFrame(frame.subarray(0, frame.length - 1), 0, 1 << 20)).toEqual({ kind: 'partial', needed: frame.length });
    expect(decodeFrame(frame.subarray(0, 5), 0, 1 << 20)).toEqual({ kind: 'partial' });
  });
});

describe('Spool', () => {
  it('reads back appended records in order, across segments, and deletes drained segments', async () => {
    const spool = await open({ segmentBytes: 300 });
    const records = Array.from({ length: 40 }, (_, i) => record(i));
    for (let i = 0; i < records.length; i += 4) await spool.append(records.slice(i, i + 4));
    expect(spool.depthRecords).toBe(40);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(3);
    const out = await drainAll(spool);
    expect(out.map((r) => r.value.toString())).toEqual(records.map((r) => r.value.toString()));
    expect(spool.depthRecords).toBe(0);
    expect(spool.depthBytes).toBe(0);
    expect(spool.isDrained).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBe(1);
    await spool.close();
  });

  it('shares one write among concurrent appends (group commit) and keeps their order', async () => {
    const spool = await open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => spool.append([record(i)])));
    expect((await drainAll(spool)).map((r) => r.key)).toEqual(Array.from({ length: 20 }, (_, i) => record(i).key));
    await spool.close();
  });

  it('survives a restart: undrained records come back after the checkpoint, drained ones do not', async () => {
    const first = await open();
    await first.append(Array.from({ length: 10 }, (_, i) => record(i)));
    const chunk = await first.read(4, 100_000);
    await first.commit(chunk as NonNullable<typeof chunk>);
    // As after SIGKILL: no close(), the lock file stays behind naming a process that is gone.
    await (first as unknown as { writer: { close(): Promise<void> } }).writer.close();
    (first as unknown as { unlock(): void }).unlock();
    writeFileSync(join(dir, 'LOCK'), '999999999');
    const second = await open();
    expect(second.depthRecords).toBe(6);
    expect(second.oldestSpooledAt).toBe(1_700_000_000_000);
    expect((await drainAll(second)).map((r) => r.value.toString())).toEqual(Array.from({ length: 6 }, (_, i) => record(i + 4).value.toString()));
    await second.close();
  });

  it('truncates a torn tail on recovery (a write cut short was never acknowledged)', async () => {
    const spool = await open();
    await spool.append([record(1), record(2)]);
    await spool.close();
    const segment = join(dir, readdirSync(dir).find((f) => f.startsWith('segment-')) as string);
    const good = statSync(segment).size;
    appendFileSync(segment, encodeFrame(record(3), 1).subarray(0, 20));
    const reopened = await open();
    expect(reopened.depthRecords).toBe(2);
    expect(statSync(segment).size).toBe(good);
    await reopened.append([record(4)]);
    expect((await drainAll(reopened)).map((r) => r.key)).toEqual(['user-1', 'user-2', 'user-4']);
    await reopened.close();
  });

  it('stops at a corrupted frame instead of delivering garbage', async () => {
    const spool = await open();
    await spool.append([record(1), record(2), record(4)]);
    await spool.close();
    const segment = join(dir, readdirSync(dir).find((f) => f.startsWith('segment-')) as string);
    const bytes = readFileSync(segment);
    const secondFrame = encodeFrame(record(1), 0).length;
    bytes[secondFrame + 20] = (bytes[secondFrame + 20] as number) ^ 0xff;
    writeFileSync(segment, bytes);
    const reopened = await open();
    expect(reopened.depthRecords).toBe(1);
    expect((await drainAll(reopened)).map((r) => r.key)).toEqual(['user-1']);
    await reopened.close();
  });

  it('refuses appends past its capacity with SpoolFullError and takes them again once drained', async () => {
    const frame = encodeFrame(record(1), 0).length;
    const spool = await open({ maxBytes: frame * 3 });
    await spool.append([record(1), record(5)]);
    await expect(spool.append([record(7), record(11)])).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.hasRoom(frame)).toBe(true);
    expect(spool.hasRoom(frame + 1)).toBe(false);
    await drainAll(spool);
    await expect(spool.append([record(7), record(11)])).resolves.toBeUndefined();
    await spool.close();
  });

  it('refuses a directory locked by another live process, or already open here, and releases its lock on close', async () => {
    writeFileSync(join(dir, 'LOCK'), String(process.ppid));
    await expect(open()).rejects.toThrow(/in use by process/);
    writeFileSync(join(dir, 'LOCK'), String(process.pid));
    const spool = await open();
    await expect(open()).rejects.toThrow(/already open in this process/);
    await spool.close();
    expect(readdirSync(dir)).not.toContain('LOCK');
    const again = await open();
    await again.close();
  });

  it('treats an unreadable checkpoint as "start from the first segment" (re-send, never lose)', async () => {
    const spool = await open();
    await spool.append([record(1), record(2)]);
    const chunk = await spool.read(1, 100_000);
    await spool.commit(chunk as NonNullable<typeof chunk>);
    await spool.close();
    writeFileSync(join(dir, 'checkpoint.json'), '{not json');
    const reopened = await open();
    expect(reopened.depthRecords).toBe(2);
    await reopened.close();
  });

  it('reads a frame larger than the requested chunk size', async () => {
    const spool = await open();
    await spool.append([record(1, 5_000), record(2, 10)]);
    const chunk = await spool.read(10, 100);
    expect(chunk?.records.map((r) => r.value.length)).toEqual([5_000]);
    await spool.commit(chunk as NonNullable<typeof chunk>);
    expect((await drainAll(spool)).map((r) => r.key)).toEqual(['user-2']);
    await spool.close();
  });

  it('wakes a waiting reader when data arrives', async () => {
    const spool = await open();
    let woke = false;
    const waiting = spool.waitForData().then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(woke).toBe(false);
    await spool.append([record(1)]);
    await waiting;
    expect(woke).toBe(true);
    await spool.close();
  });

  it('starts a fresh segment after losing a file mid-life (truncated under it) without crashing', async () => {
    const spool = await open();
    await spool.append([record(1)]);
    await spool.close();
    const segment = join(dir, readdirSync(dir).find((f) => f.startsWith('segment-')) as string);
    truncateSync(segment, 3);
    const reopened = await open();
    expect(reopened.depthRecords).toBe(0);
    await reopened.append([record(2)]);
    expect((await drainAll(reopened)).map((r) => r.key)).toEqual(['user-2']);
    await reopened.close();
  });
});
