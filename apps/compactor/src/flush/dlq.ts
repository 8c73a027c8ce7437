import type { Producer } from 'kafkajs';
import { buildDlqHeaders } from '@pipeline/schemas';
import type { BufferedRecord } from '../buffer/buffers';

/** A record the lake cannot take, with a stable code and a reason. */
export interface Rejected {
  rec: BufferedRecord;
  code: string;
  reason: string;
}

export interface DlqWriter {
  /** Produces the records (acks=all) with the DLQ headers; rejects when Kafka does not take them. */
  send(rejected: readonly Rejected[]): Promise<void>;
}

export function createDlqWriter(producer: Producer, topic: string, maxBatchBytes = 512 * 1024): DlqWriter {
  return {
    async send(rejected) {
      // Chunks stay well below the broker's default max.message.bytes (1 MiB per record batch).
      let chunk: Array<{ key: Buffer | null; value: Buffer; headers: Record<string, string> }> = [];
      let bytes = 0;
      const flush = async () => {
        if (chunk.length === 0) return;
        await producer.send({ topic, acks: -1, messages: chunk });
        chunk = [];
        bytes = 0;
      };
      for (const { rec, code, reason } of rejected) {
        const headers = buildDlqHeaders({ originalTopic: rec.topic, originalPartition: rec.partition, originalOffset: String(rec.offset), errorCode: code, attempt: 1, reason });
        const size = rec.value.length + (rec.key?.length ?? 0) + Object.values(headers).reduce((n, v) => n + v.length + 32, 0);
        if (bytes + size > maxBatchBytes) await flush();
        chunk.push({ key: rec.key, value: rec.value, headers });
        bytes += size;
      }
      await flush();
    },
  };
}
