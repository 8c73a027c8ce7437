import * as schemas from './index';

describe('public API', () => {
  it('runs the collector path end to end through index.ts', () => {
    const properties = schemas.createPropertiesValidator();
    const schema = { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] };
    const validator = schemas.createEnvelopeValidator({
      checkProperties: schemas.createSchemaPropertiesCheck({ validator: properties, lookup: (type) => (type === 'order_completed' ? { id: 1, schema } : undefined) }),
    });
    const event = { event_id: 'e-1', event_type: 'order_completed', occurred_at: '2024-05-01T11:00:00Z', user_id: 'u-1', properties: { total: 3 } };
    const verdict = validator.validateBatch([event, { ...event, event_id: 'e-2', properties: {} }], Date.parse('2024-05-01T12:00:00Z'));
    expect(verdict.status === 'checked' && verdict.results.map((r) => (r.ok ? schemas.partitionKey(r.event) : r.problems[0]?.path))).toEqual([
      'u-1',
      '$[1].properties.total',
    ]);
    expect(schemas.EVENTS_RAW_TOPIC).toBe('events.raw');
  });

  it('exports the documented names', () => {
    const names = [
      'PROBLEM_CODES', 'formatPath', 'appendPath', 'problem', 'isPlainObject', 'parseRfc3339', 'formatTimestamp',
      'TOPICS', 'EVENTS_RAW_TOPIC', 'EVENTS_CLEAN_TOPIC', 'EVENTS_DLQ_TOPIC', 'EVENTS_LATE_TOPIC', 'aggregateTopic', 'parseAggregateTopic',
      'AGGREGATE_TOPIC_PATTERN', 'changelogTopic', 'isChangelogTopic', 'DLQ_HEADERS', 'buildDlqHeaders', 'parseDlqHeaders',
      'DEFAULT_ENVELOPE_LIMITS', 'ENVELOPE_FIELDS', 'createEnvelopeValidator', 'validateEventBatch', 'resolveEnvelopeLimits', 'partitionKey',
      'createPropertiesValidator', 'createSchemaPropertiesCheck', 'InvalidSchemaError', 'detectSchemaDraft', 'ajvErrorsToProblems',
      'checkBackwardCompatibility', 'isBackwardCompatible', 'INCOMPATIBILITY_KINDS',
      'normalizeEventName', 'mapSegmentCall', 'createSegmentValidator', 'SEGMENT_CALL_TYPES', 'SEGMENT_EVENT_TYPES',
    ];
    expect(names.filter((n) => !(n in schemas))).toEqual([]);
    // Internals stay internal.
    expect(['checkEvent', 'createBatchState', 'checkBatchShape', 'describeType'].filter((n) => n in schemas)).toEqual([]);
  });
});
