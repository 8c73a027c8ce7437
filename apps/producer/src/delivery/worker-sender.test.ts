import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createProducerMetrics } from '../metrics';
import { WorkerSender } from './worker-sender';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'worker-sender-test-'));
  // Stand-ins for the Kafka worker: one acknowledges everything, one dies on its first message.
  writeFileSync(
    join(dir, 'ack.js'),
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, ok: m.op !== 'send' || m.batch.byteLength > 0, healthy: true, error: 'empty' }));`,
  );
  writeFileSync(join(dir, 'die.js'), `require('node:worker_threads').parentPort.on('message', () => process.exit(3));`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function make(script: string, onFirstConnect?: () => Promise<void>) {
  const data = { kafka: { KAFKA_BROKERS: [], KAFKA_SSL: false }, clientId: 't', compression: 'none' as const, sendTimeoutMs: 1000, logLevel: 'silent' };
  return new WorkerSender({ script: join(dir, script), data, log: pino({ level: 'silent' }), metrics: createProducerMetrics(new Registry()), ...(onFirstConnect ? { onFirstConnect } : {}) });
}

describe('WorkerSender', () => {
  it('transfers batches to the worker, resolves on its acknowledgement, and runs the first-connect setup once', async () => {
    let setups = 0;
    const sender = make('ack.js', async () => void setups++);
    await sender.send([{ topic: 't', key: 'k', value: Buffer.from('v') }]);
    await sender.send([{ topic: 't', key: null, value: Buffer.from('w') }]);
    expect(sender.healthy).toBe(true);
    expect(setups).toBe(1);
    await sender.close();
    expect(sender.healthy).toBe(false);
    await expect(sender.send([{ topic: 't', key: null, value: Buffer.from('x') }])).rejects.toThrow(/closed/);
  });

  it('fails in-flight sends when the worker dies (the delivery then spools them)', async () => {
    const sender = make('die.js');
    await expect(sender.send([{ topic: 't', key: 'k', value: Buffer.from('v') }])).rejects.toThrow(/kafka worker stopped/);
    expect(sender.healthy).toBe(false);
    await sender.close();
  });
});
