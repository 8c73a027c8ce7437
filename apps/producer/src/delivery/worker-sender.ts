/**
 * Runs the kafkajs producer on a worker thread, so record encoding, CRCs and the produce protocol
 * (about a third of the collector's CPU per event) run beside HTTP parsing and validation instead
 * of between them. Batches cross the thread boundary as one transferred buffer of spool frames.
 * Durability is unchanged: `send` resolves only after the worker saw acks=all, and a worker that
 * dies fails its in-flight sends (the delivery spools them) and is started again on the next call.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { createKafka, type KafkaSettings } from '@pipeline/kafka';
import { PipelineError, createLogger, type Logger } from '@pipeline/runtime';
import { createProducerMetrics, type ProducerMetrics } from '../metrics';
import { decodeFrame, encodeFrame, type OutRecord } from '../spool/frame';
import { KafkaSender, type RecordSender } from './kafka-sender';

export interface KafkaWorkerData {
  kafka: KafkaSettings;
  clientId: string;
  compression: 'none' | 'gzip';
  sendTimeoutMs: number;
  logLevel: string;
}

type RequestBody = { op: 'connect' } | { op: 'send'; frames: ArrayBuffer; count: number } | { op: 'close' };
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
    const frames = records.map((r) => encodeFrame(r, 0));
    let length = 0;
    for (const f of frames) length += f.length;
    const buffer = new ArrayBuffer(length);
    const view = new Uint8Array(buffer);
    let at = 0;
    for (const f of frames) {
      view.set(f, at);
      at += f.length;
    }
    const started = performance.now();
    try {
      await this.call({ op: 'send', frames: buffer, count: records.length }, [buffer]);
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
    // A smaller young generation than the default keeps the thread's RSS down; its garbage is short-lived.
    const worker = new Worker(this.opts.script, { workerData: this.opts.data, resourceLimits: { maxYoungGenerationSizeMb: 12 } });
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
      const buf = Buffer.from(request.frames);
      const records: OutRecord[] = [];
      for (let at = 0; records.length < request.count; ) {
        const scan = decodeFrame(buf, at, buf.length);
        if (scan.kind !== 'frame') throw new PipelineError('internal', `bad frame from the main thread: ${scan.kind}`);
        records.push(scan.record);
        at += scan.size;
      }
      return sender.send(records);
    };
    work().then(
      () => port.postMessage({ id: request.id, ok: true, healthy: sender.healthy } satisfies Reply),
      (err: unknown) =>
        port.postMessage({ id: request.id, ok: false, healthy: sender.healthy, error: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code } satisfies Reply),
    );
  });
}
