import type { CompressionTypes, Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { compressionType, Murmur2Partitioner, type KafkaCompression } from '@pipeline/kafka';
import { PipelineError, type Logger } from '@pipeline/runtime';
import type { OutRecord } from '../spool/frame';
import type { ProducerMetrics } from '../metrics';

export interface KafkaSenderOptions {
  kafka: Kafka;
  log: Logger;
  metrics: ProducerMetrics;
  compression: KafkaCompression;
  /** A send not acknowledged within this fails (the caller spools it). */
  sendTimeoutMs: number;
  /** Runs once after the first successful connect (topic creation); failures are retried on the next connect. */
  onFirstConnect?: () => Promise<void>;
}

/** What the delivery needs from Kafka; a port so delivery logic is unit-testable without a broker. */
export interface RecordSender {
  readonly healthy: boolean;
  /** Connects when needed; rejects when Kafka cannot be reached. */
  connect(): Promise<void>;
  /** Sends with acks=all; resolves once every record is acknowledged, rejects on error or timeout. */
  send(records: readonly OutRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The idempotent kafkajs producer (acks=all) behind {@link RecordSender}. After any failed or timed-out
 * send the producer is discarded and a new one (a new producer id) is made: kafkajs rolls sequence
 * numbers back on a failed request, and reusing them after a request that did land could make the
 * broker take the next batch for a duplicate. A fresh producer id rules that out.
 */
export class KafkaSender implements RecordSender {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private ready = false;
  private setupDone = false;
  private closed = false;

  private readonly compression: CompressionTypes;

  constructor(private readonly opts: KafkaSenderOptions) {
    this.compression = compressionType(opts.compression);
  }

  get healthy(): boolean {
    return this.ready && !this.closed;
  }

  async connect(): Promise<void> {
    await this.current();
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    return this.sendMessages(groupByTopic(records), records.length);
  }

  /** {@link send} for records already grouped as kafkajs messages (`count` of them), as the worker thread has them. */
  async sendMessages(topicMessages: TopicMessages[], count: number): Promise<void> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let producer: Producer | undefined;
    try {
      // The deadline covers a reconnect too: a request never waits on Kafka longer than this.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PipelineError('timeout', `Kafka did not acknowledge within ${this.opts.sendTimeoutMs} ms`)), this.opts.sendTimeoutMs);
      });
      producer = await Promise.race([this.current(), timeout]);
      await Promise.race([
        producer.sendBatch({ topicMessages, acks: -1, timeout: this.opts.sendTimeoutMs, compression: this.compression }),
        timeout,
      ]);
      this.opts.metrics.produceLatency.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.opts.metrics.produceBatchRecords.observe(count);
    } catch (err) {
      this.opts.metrics.produceLatency.observe({ outcome: 'failed' }, (performance.now() - started) / 1000);
      if (producer !== undefined) this.discard(producer, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const producer = this.producer ?? (await this.connecting?.catch(() => undefined));
    this.producer = undefined;
    this.ready = false;
    this.opts.metrics.kafkaConnected.set(0);
    await producer?.disconnect().catch(() => undefined);
  }

  private current(): Promise<Producer> {
    if (this.closed) return Promise.reject(new PipelineError('aborted', 'Kafka sender is closed'));
    if (this.producer !== undefined) return Promise.resolve(this.producer);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Producer> {
    const producer = this.opts.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      createPartitioner: Murmur2Partitioner,
      // Bounded, so a send fails while the broker is away and its events go to the spool.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    try {
      await producer.connect();
      if (!this.setupDone && this.opts.onFirstConnect) {
        await this.opts.onFirstConnect();
        this.setupDone = true;
      }
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw new PipelineError('dependency_unavailable', 'cannot connect to Kafka', { cause: err });
    }
    if (this.closed) {
      await producer.disconnect().catch(() => undefined);
      throw new PipelineError('aborted', 'Kafka sender is closed');
    }
    this.producer = producer;
    if (!this.ready) this.opts.log.info('kafka producer connected');
    this.ready = true;
    this.opts.metrics.kafkaConnected.set(1);
    return producer;
  }

  private discard(producer: Producer, err: unknown): void {
    if (this.producer !== producer) return;
    this.producer = undefined;
    if (this.ready) this.opts.log.warn({ err }, 'kafka send failed; events go to the spool until Kafka is back');
    this.ready = false;
    this.opts.metrics.kafkaConnected.set(0);
    void producer.disconnect().catch(() => undefined);
  }
}

function groupByTopic(records: readonly OutRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    let messages = byTopic.get(r.topic);
    if (messages === undefined) byTopic.set(r.topic, (messages = []));
    messages.push(r.headers === undefined ? { key: r.key, value: r.value } : { key: r.key, value: r.value, headers: r.headers });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
