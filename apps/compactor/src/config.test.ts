import { ConfigError } from '@pipeline/config';
import { readConfig } from './config';

describe('compactor config', () => {
  it('defaults to the local stack, the events schema and freshness-tuned buffering', () => {
    const config = readConfig({});
    expect(config).toMatchObject({ LAKE_SCHEMA: 'events', EVENTS_TABLE: 'events', AGG_TABLE_PREFIX: 'agg_', EVENTS_TOPIC: 'events.clean', AGG_TOPIC_PREFIX: 'agg.', FLUSH_MAX_AGE_MS: 2_000, FROM_BEGINNING: true, UPKEEP_ENABLED: true });
    expect(config.CATALOG_JDBC_URL).toBe('postgresql://pipeline@127.0.0.1:15432/iceberg_catalog');
    expect(config.CATALOG_JDBC_PASSWORD).toBe('pipeline-dev-password');
    expect(config.COMPACTOR_FAULT).toBeUndefined();
    expect(config).toMatchObject({ DLQ_TOPIC: 'events.dlq', DLQ_TABLE: 'events_dlq', LATE_TOPIC: 'events.late', LATE_TABLE: 'events_late' });
  });

  it('refuses one topic or table for two kinds of records', () => {
    let error: unknown;
    try {
      readConfig({ LATE_TOPIC: 'events.dlq', DLQ_TABLE: 'events', LATE_TABLE: 'agg_late' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: 'LATE_TOPIC', message: 'must differ from DLQ_TOPIC' },
      { path: 'DLQ_TABLE', message: 'must differ from EVENTS_TABLE' },
      { path: 'LATE_TABLE', message: 'must not start with the aggregate prefix' },
    ]);
  });

  it('lists every bad value by name', () => {
    let error: unknown;
    try {
      readConfig({ LAKE_SCHEMA: 'Bad-Name', S3_PART_SIZE: '1000', UPKEEP_ORPHAN_RETENTION: '1 week', COMPACTOR_FAULT: 'somewhere', UPKEEP_ENABLED: 'nope' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path).sort()).toEqual(['COMPACTOR_FAULT', 'LAKE_SCHEMA', 'S3_PART_SIZE', 'UPKEEP_ENABLED', 'UPKEEP_ORPHAN_RETENTION']);
  });
});
