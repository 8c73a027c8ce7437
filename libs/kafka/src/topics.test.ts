import type { Admin } from 'kafkajs';
import { ensureTopics } from './topics';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/**
 * An admin whose metadata answers come from a script, one entry per call (the last one repeats);
 * created topics are listed after `listedAfter` more calls to listTopics.
 */
function fakeAdmin(existing: string[], answers: Array<Metadata | Error>, listedAfter = 0) {
  const created: Array<{ topics: Array<{ topic: string }> }> = [];
  let calls = 0;
  let listings = 0;
  const admin = {
    listTopics: async () => {
      const visible = created.length > 0 && listings++ > listedAfter;
      return visible ? [...existing, ...created.flatMap((c) => c.topics.map((t) => t.topic))] : existing;
    },
    createTopics: async (req: { topics: Array<{ topic: string }> }) => {
      created.push(req);
      return true;
    },
    fetchTopicMetadata: async () => {
      const answer = answers[Math.min(calls++, answers.length - 1)] as Metadata | Error;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Admin;
  return { admin, created, metadataCalls: () => calls };
}

const unknownTopic = () => Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
const partitions = (leaders: number[]) => leaders.map((leader, partitionId) => ({ partitionId, leader, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));

describe('ensureTopics', () => {
  it('creates only the missing topics and returns without waiting when none is missing', async () => {
    const none = fakeAdmin(['a'], []);
    await expect(ensureTopics(none.admin, [{ topic: 'a', numPartitions: 3 }])).resolves.toEqual([]);
    expect(none.created).toEqual([]);
    expect(none.metadataCalls()).toBe(0);
  });

  it('asks for metadata once the new topics are listed, and waits through "does not host this topic-partition" until every partition has a leader', async () => {
    const { admin, created, metadataCalls } = fakeAdmin(
      ['a'],
      [unknownTopic(), { topics: [{ name: 'b', partitions: partitions([1, -1]) }] }, { topics: [{ name: 'b', partitions: partitions([1, 1]) }] }],
      2,
    );
    await expect(ensureTopics(admin, [{ topic: 'a', numPartitions: 2 }, { topic: 'b', numPartitions: 2, config: { 'cleanup.policy': 'compact' } }])).resolves.toEqual(['b']);
    expect(created).toEqual([
      { waitForLeaders: false, topics: [{ topic: 'b', numPartitions: 2, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] },
    ]);
    expect(metadataCalls()).toBe(3);
  });

  it('fails with dependency_unavailable, naming the topics and the last error, when leaders never appear', async () => {
    const { admin } = fakeAdmin([], [unknownTopic()], 0);
    await expect(ensureTopics(admin, [{ topic: 'c', numPartitions: 1 }], { leaderTimeoutMs: 250 })).rejects.toMatchObject({
      code: 'dependency_unavailable',
      message: expect.stringMatching(/topics c have no leader .* after 250 ms: This server does not host this topic-partition/),
    });
  });
});
