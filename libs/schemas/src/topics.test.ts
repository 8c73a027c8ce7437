import {
  AGGREGATE_TOPIC_PATTERN,
  DLQ_HEADERS,
  DLQ_REASON_MAX_LENGTH,
  TOPICS,
  aggregateTopic,
  buildDlqHeaders,
  changelogTopic,
  isChangelogTopic,
  parseAggregateTopic,
  parseDlqHeaders,
  type DlqInfo,
} from './topics';

describe('topic names', () => {
  it('pins the fixed topics (renaming one strands data in the old topic)', () => {
    expect(TOPICS).toEqual({ raw: 'events.raw', clean: 'events.clean', dlq: 'events.dlq', late: 'events.late' });
  });

  it.each(['daily_active_users', 'revenue-by-country', 'a', 'x1'])('names aggregate %s', (name) => {
    const topic = aggregateTopic(name);
    expect(topic).toBe(`agg.${name}`);
    expect(AGGREGATE_TOPIC_PATTERN.test(topic)).toBe(true);
    expect(parseAggregateTopic(topic)).toBe(name);
  });

  it.each(['', 'Daily', '1st', 'a.b', 'a b', 'x'.repeat(101)])('refuses aggregate name %j', (name) => {
    expect(() => aggregateTopic(name)).toThrow(RangeError);
  });

  it.each(['events.raw', 'agg.', 'agg.Bad', 'aggregate.x'])('does not read %s as an aggregate topic', (topic) => {
    expect(parseAggregateTopic(topic)).toBeUndefined();
  });

  it('names changelog topics the Kafka Streams way', () => {
    expect(changelogTopic('stream-processor', 'window-dau')).toBe('stream-processor-window-dau-changelog');
    expect(isChangelogTopic('stream-processor-window-dau-changelog', 'stream-processor')).toBe(true);
    expect(isChangelogTopic('stream-processor-changelog', 'stream-processor')).toBe(false);
    expect(isChangelogTopic('other-window-dau-changelog', 'stream-processor')).toBe(false);
  });

  it.each([
    ['', 'store'],
    ['app', ''],
    ['app', 'a b'],
    ['app', '.hidden'],
    ['app', 'x'.repeat(240)],
  ])('refuses changelog parts %j / %j', (app, store) => {
    expect(() => changelogTopic(app, store)).toThrow(RangeError);
  });
});

describe('DLQ headers', () => {
  const info: DlqInfo = {
    originalTopic: 'events.raw',
    originalPartition: 3,
    originalOffset: '9007199254740993',
    errorCode: 'schema_violation',
    attempt: 1,
    reason: '$.properties.price: must be number',
  };

  it('uses the fixed header names', () => {
    expect(Object.keys(buildDlqHeaders(info)).sort()).toEqual(
      ['x-dlq-attempt', 'x-dlq-error-code', 'x-dlq-original-offset', 'x-dlq-original-partition', 'x-dlq-original-topic', 'x-dlq-reason'],
    );
    expect(DLQ_HEADERS.errorCode).toBe('x-dlq-error-code');
  });

  it('round-trips through Buffers as kafkajs delivers them, keeping int64 offsets exact', () => {
    const headers = Object.fromEntries(Object.entries(buildDlqHeaders(info)).map(([k, v]) => [k, Buffer.from(v)]));
    expect(parseDlqHeaders(headers)).toEqual(info);
  });

  it('cuts long reasons', () => {
    const headers = buildDlqHeaders({ ...info, reason: 'r'.repeat(5000) });
    expect(headers[DLQ_HEADERS.reason]).toHaveLength(DLQ_REASON_MAX_LENGTH);
  });

  it('refuses incomplete or malformed headers', () => {
    const headers = buildDlqHeaders(info);
    const { [DLQ_HEADERS.attempt]: _attempt, ...missing } = headers;
    expect(parseDlqHeaders(missing)).toBeUndefined();
    expect(parseDlqHeaders({ ...headers, [DLQ_HEADERS.originalPartition]: '-1' })).toBeUndefined();
    expect(parseDlqHeaders({ ...headers, [DLQ_HEADERS.originalOffset]: ['12x'] })).toBeUndefined();
  });
});
