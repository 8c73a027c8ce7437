import { Partitioners, type PartitionerArgs } from 'kafkajs';
import type { Pipeline } from '@pipeline/testing';

export interface EventResult {
  index: number;
  event_id: string | null;
  status: 'accepted' | 'rejected';
  errors?: Array<{ code: string; path: string; message: string }>;
  warning?: { code: string; path: string; message: string };
}

export interface CollectorAnswer {
  status: number;
  body: { accepted?: number; rejected?: number; results?: EventResult[]; error?: { code: string; message: string } };
  /** Client clock just before the request and just after the answer: the collector's receive time lies between. */
  sentAtMs: number;
  answeredAtMs: number;
}

/** POSTs a JSON array of events to the collector with the run's write key. */
export async function postEvents(p: Pipeline, events: readonly unknown[]): Promise<CollectorAnswer> {
  const sentAtMs = Date.now();
  const res = await fetch(`${p.url('producer')}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.writeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  const body = (await res.json()) as CollectorAnswer['body'];
  return { status: res.status, body, sentAtMs, answeredAtMs: Date.now() };
}

/** POSTs and insists that every event was accepted. */
export async function sendAccepted(p: Pipeline, events: readonly unknown[]): Promise<CollectorAnswer> {
  const answer = await postEvents(p, events);
  if (answer.status !== 202 || answer.body.accepted !== events.length) throw new Error(`collector did not accept all ${events.length} events: ${answer.status} ${JSON.stringify(answer.body).slice(0, 2_000)}`);
  return answer;
}

const partitioner = Partitioners.DefaultPartitioner();

/** The partition a key lands on among `count` (murmur2, as the collector and the processor place records). */
export function partitionOf(key: string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0 }));
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } } as PartitionerArgs);
}
