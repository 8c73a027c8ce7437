import { DLQ_HEADERS, encodeFramedValue } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import {
  aggregateRecord,
  cleanEvent,
  createTopics,
  dropScenario,
  kafka,
  objectSchema,
  produceEvents,
  readDlq,
  registerSchema,
  scenario,
  sql,
  startCompactor,
  transactionalProducer,
  waitForRows,
  type CompactorProcess,
  killCompactors,
} from '../support/harness';

const cleanup = createCleanup();
const s = scenario('cmp_lake');
let compactor: CompactorProcess;
afterAll(async () => {
  killCompactors();
  await cleanup.run();
});

describe('compactor: Kafka to Iceberg tables queryable in Trino', () => {
  beforeAll(async () => {
    await createTopics(s, 3, ['sessions']);
    cleanup.add(() => dropScenario(s));
  });

  it('writes events and aggregates, evolves the schema, and sends what the lake cannot take to the DLQ', async () => {
    const pageView = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, duration_ms: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }));
    const click = await registerSchema(s, 'click', objectSchema({ element: { type: 'string' }, x: { type: 'integer' }, ratio: { type: 'number' }, ok: { type: 'boolean' } }));
    const producer = await transactionalProducer(s.id);
    cleanup.add(() => producer.disconnect());

    // An aborted transaction must never reach the lake (read_committed).
    const aborted = await producer.transaction();
    await aborted.send({ topic: s.eventsTopic, messages: [{ key: 'x', value: encodeFramedValue(pageView, cleanEvent(`${s.id}-aborted`, 0, 'page_view', { url: '/no' })) }] });
    await aborted.abort();

    const events = Array.from({ length: 1500 }, (_, n) =>
      n % 3 === 0
        ? { event: cleanEvent(s.id, n, 'click', { element: `button-${n % 5}`, x: n, ratio: n / 7, ok: n % 2 === 0 }), schemaId: click }
        : { event: cleanEvent(s.id, n, 'page_view', { url: `/p/${n % 10}`, duration_ms: n * 10, tags: ['a', 'b'], undeclared: n }), schemaId: pageView },
    );
    await produceEvents(producer, s.eventsTopic, events);
    const aggProducer = kafka.producer();
    await aggProducer.connect();
    cleanup.add(() => aggProducer.disconnect());
    await aggProducer.send({ topic: `${s.aggPrefix}sessions`, messages: Array.from({ length: 5 }, (_, n) => ({ value: JSON.stringify(aggregateRecord('sessions', n)) })) });

    compactor = await startCompactor(s);
    cleanup.add(() => compactor.stop());
    expect(await waitForRows(s, 1500)).toEqual({ rows: 1500, distinct: 1500 });

    const typed = await sql(
      `SELECT event_type, prop_url, prop_duration_ms, prop_tags, prop_element, prop_x, prop_ratio, prop_ok, properties_extra, ua_browser, json_extract_scalar(context, '$.locale'), typeof(occurred_at), typeof(prop_duration_ms), _kafka_topic
       FROM lake.${s.namespace}.events WHERE event_id IN ('${s.id}-1', '${s.id}-3') ORDER BY event_id`,
    );
    expect(typed.rows).toEqual([
      ['page_view', '/p/1', 10, '["a","b"]', null, null, null, null, '{"undeclared":1}', 'Chrome', 'en-US', 'timestamp(6) with time zone', 'bigint', s.eventsTopic],
      ['click', null, null, null, 'button-3', 3, 3 / 7, false, null, 'Chrome', 'en-US', 'timestamp(6) with time zone', 'bigint', s.eventsTopic],
    ]);
    // Every row knows where it came from; offsets are unique per partition.
    const coords = await sql(`SELECT count(DISTINCT (_kafka_partition, _kafka_offset)), count(DISTINCT _kafka_partition) FROM lake.${s.namespace}.events`);
    expect(coords.rows).toEqual([[1500, 3]]);
    const parts = await sql(`SELECT partition.event_type, record_count FROM lake.${s.namespace}."events$partitions" ORDER BY 1`);
    expect(parts.rows).toEqual([
      ['click', 500],
      ['page_view', 1000],
    ]);
    const agg = await waitFor(async () => {
      const r = await sql(`SELECT count(*), sum(event_count), max(m_revenue), max(g_event_type) FROM lake.${s.namespace}.agg_sessions`).catch(() => undefined);
      return r && r.rows[0]?.[0] === 5 ? r.rows : undefined;
    });
    expect(agg).toEqual([[5, 15, 6, 'page_view']]);

    // Schema evolution: a new version adds a property, which adds a column (no rewrite).
    const filesBefore = await sql(`SELECT count(*) FROM lake.${s.namespace}."events$files"`);
    const pageViewV2 = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, duration_ms: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, title: { type: 'string' } }));
    expect(pageViewV2).not.toBe(pageView);
    // Incompatible: a type whose `url` is a number clashes with the string column prop_url.
    const search = await registerSchema(s, 'search', objectSchema({ url: { type: 'integer' }, query: { type: 'string' } }));
    await produceEvents(producer, s.eventsTopic, [
      ...Array.from({ length: 100 }, (_, i) => ({ event: cleanEvent(s.id, 2000 + i, 'page_view', { url: '/new', title: `T${i}` }), schemaId: pageViewV2 })),
      ...Array.from({ length: 3 }, (_, i) => ({ event: cleanEvent(s.id, 3000 + i, 'search', { url: 5, query: 'q' }), schemaId: search })),
      { event: cleanEvent(s.id, 4000, 'page_view', {}), raw: Buffer.from('not json at all') },
      ...Array.from({ length: 50 }, (_, i) => ({ event: cleanEvent(s.id, 5000 + i, 'click', { element: 'after' }), schemaId: click })),
    ]);
    expect(await waitForRows(s, 1650)).toEqual({ rows: 1650, distinct: 1650 });
    const evolved = await sql(`SELECT count(prop_title), count(*) FILTER (WHERE prop_title IS NULL) FROM lake.${s.namespace}.events`);
    expect(evolved.rows).toEqual([[100, 1550]]);
    const filesAfter = await sql(`SELECT count(*) FROM lake.${s.namespace}."events$files"`);
    expect(Number(filesAfter.rows[0]?.[0])).toBeGreaterThan(Number(filesBefore.rows[0]?.[0]));

    const dlq = await readDlq(s, 4);
    const reasons = dlq.map((d) => [d.headers[DLQ_HEADERS.errorCode], d.headers[DLQ_HEADERS.originalTopic]]);
    expect(reasons.filter(([code]) => code === 'schema_incompatible')).toHaveLength(3);
    expect(reasons.filter(([code]) => code === 'invalid_input')).toHaveLength(1);
    expect(dlq.find((d) => d.headers[DLQ_HEADERS.errorCode] === 'schema_incompatible')?.headers[DLQ_HEADERS.reason]).toMatch(/prop_url is string in the table, the schema makes it long/);
    expect(await compactor.metric('pipeline_compactor_dlq_records_total')).toBe(4);

    // Operations surface.
    expect((await fetch(`${compactor.url}/healthz`)).status).toBe(200);
    expect(await compactor.metric('pipeline_compactor_rows_written_total', { table_kind: 'events' })).toBe(1650);
    expect(await compactor.metric('pipeline_compactor_files_per_commit_count')).toBeGreaterThan(0);
    expect(await compactor.metric('pipeline_compactor_commit_duration_seconds_count')).toBeGreaterThan(0);
    const snaps = await sql(`SELECT element_at(summary, 'pipeline.kafka-offsets') FROM lake.${s.namespace}."events$snapshots" ORDER BY committed_at DESC LIMIT 1`);
    expect(JSON.parse(String(snaps.rows[0]?.[0]))[s.eventsTopic]).toBeDefined();

    // Upkeep on demand (each task also runs on its schedule).
    for (const task of ['optimize', 'expire_snapshots', 'remove_orphan_files', 'retention']) {
      const res = await fetch(`${compactor.url}/upkeep/${task}`, { method: 'POST' });
      expect({ task, status: res.status }).toEqual({ task, status: 200 });
    }
    expect(await compactor.metric('pipeline_compactor_upkeep_runs_total', { outcome: 'ok' })).toBe(4);
    expect(await waitForRows(s, 1650)).toEqual({ rows: 1650, distinct: 1650 });

    expect(await compactor.stop()).toEqual({ code: 0, signal: null });
  });
});
