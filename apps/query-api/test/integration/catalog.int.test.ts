import { startApi, type RunningApi } from '../support/api';
import { adminSql, createEventsTable, createTestSchema, insertEvents } from '../support/lake';
import { pipelineData } from '../support/pipeline-data';

/** GET /v1/tables against real Iceberg tables: partitions, snapshots and schema versions. */

let api: RunningApi;
let schema: string;
let cleanup: () => Promise<void>;
const events = pipelineData(new Date()).events.slice(0, 30);

beforeAll(async () => {
  const test = await createTestSchema('qapi_catalog');
  schema = test.schema;
  cleanup = test.cleanup;
  await createEventsTable(schema);
  await insertEvents(schema, events);
  // Schema evolution as the compactor does it: a new property adds a prop_* column (schema id 1),
  // which shows in the schema versions once a commit is written with it.
  await adminSql(`ALTER TABLE lake.${schema}.events ADD COLUMN prop_country varchar`);
  const day = events[0]?.occurredAt.toISOString().slice(0, 10);
  await adminSql(`INSERT INTO lake.${schema}.events (event_id, event_type, occurred_at, received_at, prop_country) VALUES ('late', 'page_view', TIMESTAMP '${day} 00:00:01 UTC', current_timestamp, 'NL')`);
  // An aggregate table as the compactor lays it out, still empty.
  await adminSql(`CREATE TABLE lake.${schema}.agg_events_per_minute (
    aggregate varchar, window_start timestamp(6) with time zone, window_end timestamp(6) with time zone, event_count bigint,
    group_json varchar, estimated varchar, _kafka_topic varchar, _kafka_partition integer, _kafka_offset bigint, g_event_type varchar, m_users double
  ) WITH (partitioning = ARRAY['day(window_start)'])`);
  api = await startApi({ TRINO_SCHEMA: schema, CATALOG_SCHEMAS: schema });
});

afterAll(async () => {
  await api?.stop();
  await cleanup?.();
});

interface TableInfo {
  name: string;
  schema: string;
  columns: Array<{ name: string; type: string; nullable: boolean }>;
  partitionFields: Array<{ name: string; type: string }>;
  partitions: { count: number; records: number; files: number; bytes: number; latest: Array<{ values: Record<string, unknown>; records: number }> };
  snapshot: { id: string; committedAt: string; operation: string } | null;
  schemaVersions: Array<{ schemaId: number; since: string }>;
  snapshotSchemaId: number | null;
}

describe('GET /v1/tables', () => {
  it('lists tables with columns, partitions, the latest snapshot and schema versions', async () => {
    const res = await api.get('/v1/tables', { token: api.tokens.sql });
    expect(res.status).toBe(200);
    const { tables } = (await res.json()) as { tables: TableInfo[] };
    expect(tables.map((t) => t.name)).toEqual(['agg_events_per_minute', 'events']);
    const table = tables.find((t) => t.name === 'events') as TableInfo;
    expect(table.columns.slice(0, 3)).toEqual([
      { name: 'event_id', type: 'varchar', nullable: true },
      { name: 'event_type', type: 'varchar', nullable: true },
      { name: 'occurred_at', type: 'timestamp(6) with time zone', nullable: true },
    ]);
    expect(table.columns.at(-1)).toMatchObject({ name: 'prop_country' });
    expect(table.partitionFields).toEqual([
      { name: 'occurred_at_day', type: 'date' },
      { name: 'event_type', type: 'varchar' },
    ]);
    const types = new Set(events.map((e) => e.eventType));
    const days = new Set(events.map((e) => e.occurredAt.toISOString().slice(0, 10)));
    expect(table.partitions.count).toBe(types.size * days.size);
    expect(table.partitions.records).toBe(events.length + 1);
    expect(table.partitions.latest[0]).toMatchObject({ values: { occurred_at_day: [...days].sort().at(-1), event_type: expect.any(String) }, records: expect.any(Number) });
    expect(table.snapshot).toMatchObject({ operation: 'append', id: expect.stringMatching(/^-?\d+$/) });
    expect(Date.parse(table.snapshot?.committedAt ?? '')).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(table.schemaVersions.map((v) => v.schemaId)).toEqual([0, 1]);
    expect(table.snapshotSchemaId).toBe(1);

    const empty = tables.find((t) => t.name === 'agg_events_per_minute');
    expect(empty).toMatchObject({ partitionFields: [{ name: 'window_start_day', type: 'date' }], partitions: { count: 0, records: 0, latest: [] }, snapshotSchemaId: 0 });
  });

  it('lists another schema on request, and nothing for an unknown one', async () => {
    const res = await api.get(`/v1/tables?schema=${schema}&partitions=1`, { token: api.tokens.sql });
    const { tables } = (await res.json()) as { tables: TableInfo[] };
    expect(tables.find((t) => t.name === 'events')?.partitions.latest).toHaveLength(1);
    const none = await api.get('/v1/tables?schema=no_such_schema_here', { token: api.tokens.sql });
    expect(await none.json()).toEqual({ tables: [] });
  });
});
