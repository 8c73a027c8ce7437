import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@pipeline/testing';
import { createProducerMetrics } from '../metrics';
import type { OutRecord } from '../spool/frame';
import { Spool, SpoolFullError } from '../spool/spool';
import { Delivery } from './delivery';
import type { RecordSender } from './kafka-sender';

const log = pino({ level: 'silent' });

/** An in-memory Kafka: records what it acknowledged; can be taken down, or made to hang. */
class FakeSender implements RecordSender {
  delivered: string[] = [];
  up = true;
  hang = false;
  sends = 0;
  private connected = false;
  get healthy() {
    return this.up && this.connected;
  }
  async connect() {
    if (!this.up) throw new Error('broker down');
    this.connected = true;
  }
  async send(records: readonly OutRecord[]) {
    this.sends++;
    if (!this.up || !this.connected) {
      this.connected = false;
      throw new Error('broker down');
    }
    if (this.hang) {
      await new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 50));
    }
    this.delivered.push(...records.map((r) => r.value.toString()));
  }
  async close() {
    this.connected = false;
  }
}

let dir: string;
let spool: Spool;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'delivery-test-'));
  spool = await Spool.open({ dir, maxBytes: 1_000_000, segmentBytes: 100_000, log });
});
afterEach(async () => {
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
});

function records(prefix: string, n: number): OutRecord[] {
  return Array.from({ length: n }, (_, i) => ({ topic: 'events.raw', key: 'user-1', value: Buffer.from(`${prefix}${i}`) }));
}

function make(sender: FakeSender, overrides: Partial<{ memoryQueueBytes: number; maxInFlightBatches: number; lingerMs: number }> = {}) {
  return new Delivery({
    sender,
    log,
    metrics: createProducerMetrics(new Registry()),
    memoryQueueBytes: overrides.memoryQueueBytes ?? 1_000_000,
    maxBatchBytes: 10_000,
    maxInFlightBatches: overrides.maxInFlightBatches ?? 1,
    lingerMs: overrides.lingerMs ?? 0,
    retryDelayMs: 5,
  });
}

describe('Delivery', () => {
  it('acknowledges from Kafka and batches concurrent requests into shared sends', async () => {
    const sender = new FakeSender();
    const delivery = make(sender);
    await delivery.start(spool, 1_000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => delivery.submit(records(`r${i}-`, 5), 50)));
    expect(results.every((r) => r === 'kafka')).toBe(true);
    expect(sender.delivered).toHaveLength(100);
    expect(sender.sends).toBeLessThan(20);
    await delivery.stop(1_000);
  });

  it('spools when Kafka fails, answers from the spool, and drains in order once Kafka is back', async () => {
    const sender = new FakeSender();
    const delivery = make(sender);
    await delivery.start(spool, 1_000);
    await delivery.submit(records('a', 2), 20);
    sender.up = false;
    expect(await delivery.submit(records('b', 2), 20)).toBe('spool');
    expect(await delivery.submit(records('c', 2), 20)).toBe('spool');
    expect(delivery.currentMode).toBe('spooling');
    expect(spool.depthRecords).toBe(4);
    sender.up = true;
    await waitFor(() => delivery.currentMode === 'direct', { timeoutMs: 5_000, what: 'the drain' });
    expect(await delivery.submit(records('d', 1), 10)).toBe('kafka');
    expect(sender.delivered).toEqual(['a0', 'a1', 'b0', 'b1', 'c0', 'c1', 'd0']);
    expect(spool.depthRecords).toBe(0);
    await delivery.stop(1_000);
  });

  it('moves a batch that times out to the spool instead of holding the request', async () => {
    const sender = new FakeSender();
    const delivery = make(sender);
    await delivery.start(spool, 1_000);
    sender.hang = true;
    expect(await delivery.submit(records('x', 3), 30)).toBe('spool');
    sender.hang = false;
    await waitFor(() => delivery.currentMode === 'direct', { timeoutMs: 5_000, what: 'the drain' });
    expect(sender.delivered).toEqual(['x0', 'x1', 'x2']);
    await delivery.stop(1_000);
  });

  it('spills to the spool when the memory queue is full', async () => {
    const sender = new FakeSender();
    const delivery = make(sender, { memoryQueueBytes: 100 });
    await delivery.start(spool, 1_000);
    const answers = await Promise.all([delivery.submit(records('m', 1), 80), delivery.submit(records('n', 1), 80)]);
    expect(answers).toEqual(['kafka', 'spool']);
    await waitFor(() => sender.delivered.length === 2, { timeoutMs: 5_000, what: 'the drain' });
    expect(sender.delivered).toEqual(['m0', 'n0']);
    await delivery.stop(1_000);
  });

  it('starts in spooling mode when Kafka is unreachable, and rejects with SpoolFullError only when the spool is full', async () => {
    const sender = new FakeSender();
    sender.up = false;
    const delivery = make(sender);
    await delivery.start(spool, 20);
    expect(delivery.currentMode).toBe('spooling');
    expect(await delivery.submit(records('s', 1), 10)).toBe('spool');
    const big = [{ topic: 't', key: null, value: Buffer.alloc(2_000_000) }];
    await expect(delivery.submit(big, 2_000_000)).rejects.toBeInstanceOf(SpoolFullError);
    await delivery.stop(50);
    // Kafka never came back: the spooled event is still on disk for the next start.
    expect(spool.depthRecords).toBe(1);
  });

  it('drains what a previous run left in the spool at start, before taking new events directly', async () => {
    await spool.append(records('old', 3));
    const sender = new FakeSender();
    const delivery = make(sender);
    await delivery.start(spool, 1_000);
    expect(await delivery.submit(records('new', 1), 10)).toBe('spool');
    await waitFor(() => delivery.currentMode === 'direct', { timeoutMs: 5_000, what: 'the drain' });
    expect(sender.delivered).toEqual(['old0', 'old1', 'old2', 'new0']);
    await delivery.stop(1_000);
  });

  it('refuses new events once stopping, after flushing the queued ones', async () => {
    const sender = new FakeSender();
    const delivery = make(sender);
    await delivery.start(spool, 1_000);
    const pending = delivery.submit(records('q', 2), 20);
    await delivery.stop(1_000);
    expect(await pending).toBe('kafka');
    await expect(delivery.submit(records('late', 1), 10)).rejects.toThrow(/shutting down/);
  });

  describe('linger', () => {
    it('holds a small batch for lingerMs so later requests share its produce request', async () => {
      const sender = new FakeSender();
      const delivery = make(sender, { lingerMs: 60, maxInFlightBatches: 2 });
      await delivery.start(spool, 1_000);
      const started = performance.now();
      const first = delivery.submit(records('a', 2), 20);
      await sleep(15);
      const second = delivery.submit(records('b', 1), 10);
      expect(await Promise.all([first, second])).toEqual(['kafka', 'kafka']);
      expect(performance.now() - started).toBeGreaterThanOrEqual(60);
      expect(sender.sends).toBe(1);
      expect(sender.delivered).toEqual(['a0', 'a1', 'b0']);
      await delivery.stop(1_000);
    });

    it('sends at once when the waiting events fill a batch', async () => {
      const sender = new FakeSender();
      const delivery = make(sender, { lingerMs: 60_000 });
      await delivery.start(spool, 1_000);
      const started = performance.now();
      const first = delivery.submit(records('f', 1), 6_000);
      // The second fills maxBatchBytes (10 000) with what already waits: both leave together, at once.
      const second = delivery.submit(records('g', 1), 4_000);
      expect(await Promise.all([first, second])).toEqual(['kafka', 'kafka']);
      expect(sender.sends).toBe(1);
      expect(sender.delivered).toEqual(['f0', 'g0']);
      expect(performance.now() - started).toBeLessThan(5_000);
      await delivery.stop(1_000);
    });

    it('spools what lingers at once when Kafka goes away, ahead of the events after it', async () => {
      const sender = new FakeSender();
      const delivery = make(sender, { lingerMs: 60_000 });
      await delivery.start(spool, 1_000);
      const lingering = delivery.submit(records('a', 2), 20);
      sender.up = false;
      const after = delivery.submit(records('b', 1), 10);
      expect(await Promise.all([lingering, after])).toEqual(['spool', 'spool']);
      sender.up = true;
      await waitFor(() => delivery.currentMode === 'direct', { timeoutMs: 5_000, what: 'the drain' });
      expect(sender.delivered).toEqual(['a0', 'a1', 'b0']);
      await delivery.stop(1_000);
    });

    it('sends what lingers at once on stop', async () => {
      const sender = new FakeSender();
      const delivery = make(sender, { lingerMs: 60_000 });
      await delivery.start(spool, 1_000);
      const pending = delivery.submit(records('s', 2), 20);
      const started = performance.now();
      await delivery.stop(1_000);
      expect(await pending).toBe('kafka');
      expect(sender.delivered).toEqual(['s0', 's1']);
      expect(performance.now() - started).toBeLessThan(5_000);
    });
  });
});
