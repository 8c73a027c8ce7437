import type { Admin } from 'kafkajs';
import { PipelineError } from '@pipeline/runtime';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Topic-level configs, e.g. { 'cleanup.policy': 'compact', 'retention.ms': '604800000' }. */
  config?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  replicationFactor?: number;
  /** How long new topics may take to show up with a leader for every partition (ms). */
  leaderTimeoutMs?: number;
}

/**
 * Creates the topics that do not exist yet (idempotent) and waits until every partition of each
 * has a leader; returns the names it created. Throws PipelineError `dependency_unavailable` when
 * the leaders do not appear within `leaderTimeoutMs`.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], opts: EnsureTopicsOptions = {}): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    // kafkajs' own wait gives up when the broker's metadata does not know a new topic yet
    // (UNKNOWN_TOPIC_OR_PARTITION, common on a busy broker): waitForLeaders below retries it.
    waitForLeaders: false,
    topics: missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions,
      replicationFactor: opts.replicationFactor ?? -1,
      configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  await waitForLeaders(admin, missing, opts.leaderTimeoutMs ?? 30_000);
  return missing.map((s) => s.topic);
}

async function waitForLeaders(admin: Admin, specs: TopicSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = specs.map((s) => s.topic);
  let lastError: unknown;
  for (;;) {
    try {
      // Asking for a topic's metadata before the broker lists it makes kafkajs log an error per try.
      const listed = new Set(await admin.listTopics());
      if (!pending.every((t) => listed.has(t))) throw new Error(`not listed yet: ${pending.filter((t) => !listed.has(t)).join(', ')}`);
      const { topics } = await admin.fetchTopicMetadata({ topics: pending });
      const ready = new Set(
        topics
          .filter((t) => {
            const spec = specs.find((s) => s.topic === t.name);
            return spec !== undefined && t.partitions.length >= spec.numPartitions && t.partitions.every((p) => p.leader >= 0);
          })
          .map((t) => t.name),
      );
      pending = pending.filter((t) => !ready.has(t));
      if (pending.length === 0) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new PipelineError('dependency_unavailable', `topics ${pending.join(', ')} have no leader for every partition after ${timeoutMs} ms${why}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
