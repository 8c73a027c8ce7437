/**
 * Runs the kafkajs producer on a worker thread, so record encoding, CRCs and the produce protocol
 * (about a third of the collector's CPU per event) run beside HTTP parsing and validation instead
 * of between them. Batches cross the thread boundary as one transferred buffer (`transfer-batch.ts`)
 * that the worker reads without copying.
 * Durability is unchanged: `send` resolves only after the worker saw acks=all, and a worker that
 * dies fails its in-flight sends (the delivery spools them) and is started again on the next call.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { createKafka, type KafkaCompression, type KafkaSettings } from '@pipeline/kafka';
import { PipelineError, createLogger, type Logger } from '@pipeline/runtime';
import { createProducerMetrics, type ProducerMetrics } from '../metrics';
import type { OutRecord } from '../spool/frame';
import { KafkaSender, type RecordSender } from './kafka-sender';
import { decodeTransferBatch, encodeTransferBatch } from './transfer-batch';

export interface KafkaWorkerData {
  kafka: KafkaSettings;
  clientId: string;
  compression: KafkaCompression;
  sendTimeoutMs: number;
  logLevel: string;
}

type RequestBody = { op: 'connect' } | { op: 'send'; batch: ArrayBuffer } | { op: 'close' };
type Request = RequestBody & { id: number };
type Reply = { id: number; ok: true; healthy: boolean } | { id: number; ok: false; healthy: boolean; error: string; code?: string };

export interface WorkerSenderOptions {
  /** The script the worker runs: the bundle itself (main.ts starts {@link runKafkaWorker} off the main thread). */
  script: string;
  data: KafkaWorkerData;
  log: Logger;
  metrics: ProducerMetrics;
  onFirstConnect?: () => Promise<void>;
}

export class WorkerSender implements RecordSender {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private ready = false;
  private setupDone = false;
  private closed = false;

  constructor(private readonly opts: WorkerSenderOptions) {}

  get healthy(): boolean {
    return this.ready && !this.closed;
  }

  async connect(): Promise<void> {
    await this.call({ op: 'connect' });
    if (!this.setupDone && this.opts.onFirstConnect) {
      await this.opts.onFirstConnect();
      this.setupDone = true;
    }
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    if (!this.setupDone) await this.connect();
    const buffer = encodeTransferBatch(records);
    const started = performance.now();
    try {
      await this.call({ op: 'send', batch: buffer }, [buffer]);
      this.opts.metrics.produceLatency.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.opts.metrics.produceBatchRecords.observe(records.length);
    } catch (err) {
      this.opts.metrics.produceLatency.observe({ outcome: 'failed' }, (performance.now() - started) / 1000);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.worker !== undefined) await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    this.setHealthy(false);
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private spawn(): Worker {
    // kafkajs allocates ~2 KB per record, and a batch lives until Kafka acknowledges it. With a 12 MB young
    // generation scavenges ran every few batches and copied or promoted the in-flight ones (GC was ~25 % of
    // the thread's CPU); 48 MB (V8's default maximum on 64-bit) halves that for at most ~36 MB more RSS.
    const worker = new Worker(this.opts.script, { workerData: this.opts.data, resourceLimits: { maxYoungGenerationSizeMb: 48 } });
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      this.setHealthy(reply.healthy);
      waiter.resolve(reply);
    });
    const fail = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.setHealthy(false);
      if (!this.closed) this.opts.log.error({ err }, 'kafka worker died; in-flight batches go to the spool');
      for (const [id, waiter] of this.pending) {
        this.pending.delete(id);
        waiter.reject(new PipelineError('dependency_unavailable', 'kafka worker stopped', { cause: err }));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`kafka worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  private async call(request: RequestBody, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.closed) throw new PipelineError('aborted', 'Kafka sender is closed');
    this.worker ??= this.spawn();
    const id = ++this.seq;
    // The worker enforces the send timeout itself; this one only guards against a stuck worker.
    const limitMs = request.op === 'send' ? this.opts.data.sendTimeoutMs + 5_000 : 60_000;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.pending.delete(id);
        this.setHealthy(false);
        reject(new PipelineError('timeout', `kafka worker did not answer ${request.op} within ${limitMs} ms`));
      }, limitMs);
      (this.worker as Worker).postMessage({ ...request, id }, transfer);
    }).finally(() => clearTimeout(timer));
    if (!reply.ok) throw new PipelineError(reply.code === 'aborted' ? 'aborted' : 'dependency_unavailable', reply.error);
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.ready) return;
    this.ready = healthy;
    this.opts.metrics.kafkaConnected.set(healthy ? 1 : 0);
  }
}

/** The worker thread's side: one {@link KafkaSender} serving the main thread's requests in order of arrival. */
export function runKafkaWorker(): void {
  if (isMainThread || parentPort === null) throw new Error('runKafkaWorker must run on a worker thread');
  const port = parentPort;
  const data = workerData as KafkaWorkerData;
  const log = createLogger({ name: 'producer', level: data.logLevel }).child({ thread: 'kafka' });
  const kafka = createKafka(data.kafka, { clientId: data.clientId, log });
  const sender = new KafkaSender({ kafka, log, metrics: createProducerMetrics(new Registry()), compression: data.compression, sendTimeoutMs: data.sendTimeoutMs });

  port.on('message', (request: Request) => {
    const work = async (): Promise<void> => {
      if (request.op === 'connect') return sender.connect();
      if (request.op === 'close') return sender.close();
      let batch: ReturnType<typeof decodeTransferBatch>;
      try {
        batch = decodeTransferBatch(request.batch);
      } catch (err) {
        throw new PipelineError('internal', 'bad batch from the main thread', { cause: err });
      }
      return sender.sendMessages(batch.topicMessages, batch.count);
    };
    work().then(
      () => port.postMessage({ id: request.id, ok: true, healthy: sender.healthy } satisfies Reply),
      (err: unknown) =>
        port.postMessage({ id: request.id, ok: false, healthy: sender.healthy, error: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code } satisfies Reply),
    );
  });
}
