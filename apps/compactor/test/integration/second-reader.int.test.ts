import { basename } from 'node:path';
import {
  appendFiles,
  buildArrowTableFromColumns,
  createJdbcCatalog,
  currentFields,
  encodeParquet,
  loadTable,
  loadTableMetadata,
  parseCurrentSchema,
  parseS3Location,
  uploadObject,
} from '@pipeline/lake';
import type { CleanEvent } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import { readConfig } from '../../src/config';
import {
  aggregateRecord,
  cleanEvent,
  createTopics,
  dropScenario,
  kafka,
  killCompactors,
  objectSchema,
  produceEvents,
  registerSchema,
  s3,
  scenario,
  sql,
  startCompactor,
  transactionalProducer,
  trino,
  waitForRows,
} from '../support/harness';
import { TRINO_TYPE_OF, diffRows, micros, pyRows, trinoRows, trinoSelectList, type Row } from '../support/lake-rows';
import { ensurePyIceberg, readWithPyIceberg, type PyIcebergHeader, type PyIcebergRead } from '../support/pyiceberg';
import type { PythonEnv } from '../support/python-env';

const cleanup = createCleanup();
const s = scenario('cmp_2nd');
let py: PythonEnv;

beforeAll(async () => {
  // First run on a machine: a venv with PyIceberg and PyArrow from the package index (about 30 s); cached afterwards.
  py = await ensurePyIceberg();
  await createTopics(s, 2, ['sessions']);
  cleanup.add(() => dropScenario(s));
}, 20 * 60_000);
afterAll(async () => {
  killCompactors();
  await cleanup.run();
});

const DAY = 86_400_000;
const NOW = Date.now();

type Kind = 'string' | 'long' | 'double' | 'boolean' | 'json';
const KIND_OF_JSON_TYPE: Record<string, Kind> = { string: 'string', integer: 'long', number: 'double', boolean: 'boolean' };

const SCHEMAS: Record<string, Record<string, { type: string; items?: object }>> = {
  page_view: { url: { type: 'string' }, duration_ms: { type: 'integer' }, scroll: { type: 'number' }, logged_in: { type: 'boolean' }, utm: { type: 'object' }, tags: { type: 'array', items: { type: 'string' } } },
  purchase: { order_id: { type: 'string' }, amount: { type: 'number' }, quantity: { type: 'integer' }, coupon: { type: 'string' }, items: { type: 'array' }, gift: { type: 'boolean' }, note: { type: 'string' } },
  click: { element: { type: 'string' }, x: { type: 'integer' }, url: { type: 'string' }, ratio: { type: 'number' } },
};
/** page_view, version 2: adds `title`, which adds the column prop_title. */
const PAGE_VIEW_V2 = { ...SCHEMAS['page_view'], title: { type: 'string' } };
const TYPES = ['page_view', 'purchase', 'click'] as const;
const NOTES = ['Grüße aus Köln 👋', '日本語のメモ', 'שלום עולם', 'e\u0301 and 👩‍👩‍👧', 'quote " backslash \\ tab \t newline \n end', ''];

function kinds(schema: Record<string, { type: string }>): Record<string, Kind> {
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, KIND_OF_JSON_TYPE[v.type] ?? 'json']));
}

/** Event n: its type, day (0 to 2 days ago), properties of every column kind, nulls, absent values and non-ASCII text. */
function makeEvent(n: number, withTitle: boolean): CleanEvent {
  const type = TYPES[n % 3] as string;
  const occurred = NOW - (Math.floor(n / 3) % 3) * DAY - n * 997;
  const props: Record<string, unknown> = {};
  if (type === 'page_view') {
    Object.assign(props, {
      url: n % 6 === 0 ? null : `/p/${n % 7}?q=ü&n=${n}`,
      scroll: n / 8,
      logged_in: n % 4 === 0,
      utm: { source: 'news', medium: n % 2 ? 'email' : null, nested: { list: [1, 'два', true] } },
      tags: ['a', `t${n % 3}`, '🚀'],
    });
    if (n % 5 !== 0) props['duration_ms'] = n === 3 ? Number.MAX_SAFE_INTEGER : n * 13;
    if (n % 9 === 0) props['ref'] = 'not declared ✓';
    if (withTitle) props['title'] = n % 4 === 0 ? null : `Título ${n} ✓ «ok»`;
  } else if (type === 'purchase') {
    Object.assign(props, {
      order_id: `o-${n}`,
      amount: Math.round((19.99 + n * 0.37) * 100) / 100,
      quantity: n % 4,
      coupon: n % 5 === 0 ? null : `SAVE${n % 3}`,
      items: [{ sku: `sku-${n % 5}`, qty: 1 + (n % 2), price: 2.5 }],
      gift: n % 2 === 0,
      note: NOTES[n % NOTES.length],
    });
  } else {
    Object.assign(props, { element: `btn-${n % 4}`, x: n - 200, url: '/click', ratio: n % 7 === 0 ? null : -1 + n / 1000, debug: { k: 'ü', n } });
  }
  const e = cleanEvent(s.id, n, type, props, occurred);
  e.received_at = new Date(occurred + 1_234).toISOString();
  e.enrichment.processed_at = new Date(occurred + 2_345).toISOString();
  if (n % 10 === 0) {
    e.user_id = null;
    e.anonymous_id = `anon-${n}-ß`;
  }
  if (n % 11 === 0) e.context = { ...e.context, locale: 'de-DE', campaign: 'Grüße', screen: { w: 1920, h: 1080 } } as CleanEvent['context'];
  return e;
}

interface Produced {
  event: CleanEvent;
  schemaId: number;
  declared: Record<string, Kind>;
}

/** The row the events table must hold for a produced event, normalised (Kafka partition and offset excepted). */
function expectedEventRow(p: Produced, propertyColumns: readonly string[], topic: string): Row {
  const e = p.event;
  const props = e.properties as Record<string, unknown>;
  const row: Row = {
    event_id: e.event_id,
    event_type: e.event_type,
    occurred_at: micros(Date.parse(e.occurred_at)),
    received_at: micros(Date.parse(e.received_at)),
    processed_at: micros(Date.parse(e.enrichment.processed_at)),
    user_id: e.user_id,
    anonymous_id: e.anonymous_id,
    ua_browser: e.enrichment.ua_browser,
    ua_browser_version: e.enrichment.ua_browser_version,
    ua_os: e.enrichment.ua_os,
    ua_device_type: e.enrichment.ua_device_type,
    context: Object.keys(e.context).length > 0 ? e.context : null,
    schema_id: String(p.schemaId),
    _kafka_topic: topic,
  };
  for (const column of propertyColumns) row[column] = null;
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(props)) {
    const kind = p.declared[name];
    if (!kind) extra[name] = value;
    else if (value === null || value === undefined) row[`prop_${name}`] = null;
    else row[`prop_${name}`] = kind === 'long' ? String(value) : value;
  }
  row['properties_extra'] = Object.keys(extra).length > 0 ? extra : null;
  return row;
}

/** Footer field ids that disagree with the table schema's id for the same column name. */
function footerIdMismatches(table: PyIcebergHeader): string[] {
  const idOf = new Map(table.schema.fields.map((f) => [f.name, f.id]));
  const out: string[] = [];
  for (const file of table.scan.files) {
    for (const [name, id] of Object.entries(file.parquet_field_ids)) {
      if (id !== idOf.get(name)) out.push(`${basename(file.path)}: ${name} has field id ${id}, the table says ${idOf.get(name)}`);
    }
  }
  return out;
}

function columnsOf(read: PyIcebergRead): Array<{ name: string; type: string }> {
  return read.table.schema.fields.filter((f) => read.table.scan.columns.includes(f.name)).map((f) => ({ name: f.name, type: f.type }));
}

const lake = (table: string) => `lake.${s.namespace}.${table}`;

describe('a second Iceberg implementation (PyIceberg, SQL catalog, PyArrow S3 IO) reads the compactor tables like Trino', () => {
  it('agrees with Trino and with what was produced: schema and field ids, snapshots, every value, evolution and partition pruning', async () => {
    const schemaIds: Record<string, number> = {};
    for (const type of TYPES) schemaIds[type] = await registerSchema(s, type, objectSchema(SCHEMAS[type] as Record<string, unknown>));
    const producer = await transactionalProducer(s.id);
    cleanup.add(() => producer.disconnect());
    const aggProducer = kafka.producer();
    await aggProducer.connect();
    cleanup.add(() => aggProducer.disconnect());
    await aggProducer.send({ topic: `${s.aggPrefix}sessions`, messages: Array.from({ length: 5 }, (_, n) => ({ value: JSON.stringify(aggregateRecord('sessions', n, NOW)) })) });

    const produced: Produced[] = [];
    const send = async (from: number, to: number, pageView: { id: number; schema: Record<string, { type: string }> }) => {
      const batch = Array.from({ length: to - from }, (_, i): Produced => {
        const n = from + i;
        const type = TYPES[n % 3] as string;
        const withTitle = type === 'page_view' && pageView.schema === PAGE_VIEW_V2;
        const [schemaId, schema] = type === 'page_view' ? [pageView.id, pageView.schema] : [schemaIds[type] as number, SCHEMAS[type] as Record<string, { type: string }>];
        return { event: makeEvent(n, withTitle), schemaId, declared: kinds(schema) };
      });
      await produceEvents(producer, s.eventsTopic, batch.map(({ event, schemaId }) => ({ event, schemaId })), 100);
      produced.push(...batch);
    };

    // Several commits: two batches under the first schemas, then a new page_view version adds a column.
    await send(0, 300, { id: schemaIds['page_view'] as number, schema: SCHEMAS['page_view'] as Record<string, { type: string }> });
    const compactor = await startCompactor(s);
    cleanup.add(() => compactor.stop());
    expect(await waitForRows(s, 300)).toEqual({ rows: 300, distinct: 300 });
    await send(300, 450, { id: schemaIds['page_view'] as number, schema: SCHEMAS['page_view'] as Record<string, { type: string }> });
    expect(await waitForRows(s, 450)).toEqual({ rows: 450, distinct: 450 });
    const pageViewV2 = await registerSchema(s, 'page_view', objectSchema(PAGE_VIEW_V2));
    await send(450, 550, { id: pageViewV2, schema: PAGE_VIEW_V2 });
    expect(await waitForRows(s, 550)).toEqual({ rows: 550, distinct: 550 });
    await waitFor(async () => (await sql(`SELECT count(*) FROM ${lake('agg_sessions')}`).catch(() => undefined))?.rows[0]?.[0] === 5, { timeoutMs: 60_000, what: '5 aggregate rows' });
    await compactor.stop();

    const read = await readWithPyIceberg(py, s.namespace, 'events');
    const { table } = read;
    const fields = table.schema.fields;

    // Schema and field ids: PyIceberg's view is the metadata file Trino's log points at, and Trino's column types.
    const metadata = await loadTableMetadata(trino, s3, s.namespace, 'events');
    expect(table.metadata_location).toBe(metadata.location);
    expect(table.format_version).toBe(2);
    expect(fields).toEqual(parseCurrentSchema(metadata));
    const described = await sql(
      `SELECT column_name, data_type FROM lake.information_schema.columns WHERE table_schema = '${s.namespace}' AND table_name = 'events' ORDER BY ordinal_position`,
    );
    expect(described.rows).toEqual(fields.map((f) => [f.name, TRINO_TYPE_OF[f.type]]));
    expect(table.partition_spec.fields.map((f) => [fields.find((c) => c.id === f.source_id)?.name, f.transform])).toEqual([
      ['occurred_at', 'day'],
      ['event_type', 'identity'],
    ]);

    // The data files: the same set in both engines; Trino's per-file metrics, keyed by field id, name the same columns as
    // PyIceberg's schema; and every Parquet footer carries the table's id for each column.
    const trinoFiles = await sql(`SELECT file_path, record_count, value_counts, null_value_counts, readable_metrics FROM lake.${s.namespace}."events$files" ORDER BY file_path`);
    expect(table.scan.files.map((f) => [f.path, f.record_count])).toEqual(trinoFiles.rows.map((r) => [r[0], r[1]]));
    const idOf = new Map(fields.map((f) => [f.name, String(f.id)]));
    const metricMismatches: string[] = [];
    let metricsCompared = 0;
    for (const [path, , valueCounts, nullCounts, readable] of trinoFiles.rows as Array<[string, number, Record<string, number>, Record<string, number>, string]>) {
      const byName = JSON.parse(readable) as Record<string, { value_count: number | null; null_value_count: number | null }>;
      for (const [name, m] of Object.entries(byName)) {
        const id = idOf.get(name) ?? 'none';
        if (m.value_count !== null) metricsCompared++;
        if (m.value_count !== null && valueCounts[id] !== m.value_count) metricMismatches.push(`${basename(path)} ${name}: value_counts[${id}] = ${valueCounts[id]}, readable ${m.value_count}`);
        if (m.null_value_count !== null && nullCounts[id] !== m.null_value_count) metricMismatches.push(`${basename(path)} ${name}: null_value_counts[${id}] = ${nullCounts[id]}, readable ${m.null_value_count}`);
      }
      for (const id of Object.keys(valueCounts)) if (![...idOf.values()].includes(id)) metricMismatches.push(`${basename(path)}: metrics for unknown field id ${id}`);
    }
    expect(metricMismatches).toEqual([]);
    // Every column of every file had metrics to compare (a file lacks only the columns added after it was written).
    expect(metricsCompared).toBe(table.scan.files.reduce((n, f) => n + Object.keys(f.parquet_field_ids).length, 0));
    expect(footerIdMismatches(table)).toEqual([]);
    expect(table.scan.files.every((f) => f.parquet_field_ids['event_id'] !== undefined)).toBe(true);

    // Snapshots: the same ids, parents, operations and summaries; several of them are the compactor's appends.
    const trinoSnapshots = await sql(`SELECT CAST(snapshot_id AS varchar), CAST(parent_id AS varchar), operation, summary FROM lake.${s.namespace}."events$snapshots" ORDER BY committed_at`);
    expect(table.snapshots.map((sn) => [sn.snapshot_id, sn.parent_snapshot_id, sn.operation, sn.summary])).toEqual(trinoSnapshots.rows);
    expect(table.current_snapshot_id).toBe(trinoSnapshots.rows.at(-1)?.[0]);
    const appends = table.snapshots.filter((sn) => sn.summary['engine-name'] === 'event-pipeline');
    expect(appends.length).toBeGreaterThanOrEqual(3);
    expect(appends.at(-1)?.summary['total-records']).toBe('550');

    // Every value: PyIceberg equals Trino column by column, and both equal what was produced.
    const columns = fields.map((f) => ({ name: f.name, type: f.type }));
    const names = columns.map((c) => c.name);
    const pyRead = pyRows(columns, read.rows);
    const trinoRead = trinoRows(columns, (await sql(`SELECT ${trinoSelectList(columns)} FROM ${lake('events')}`)).rows);
    expect(pyRead).toHaveLength(550);
    expect(trinoRead).toHaveLength(550);
    expect(new Set(pyRead.map((r) => r['event_id']))).toEqual(new Set(produced.map((p) => p.event.event_id)));
    expect(diffRows(trinoRead, pyRead, { key: 'event_id', columns: names })).toEqual([]);
    const propertyColumns = names.filter((n) => n.startsWith('prop_'));
    const expected = produced.map((p) => expectedEventRow(p, propertyColumns, s.eventsTopic));
    const jsonColumns = new Set(['context', 'properties_extra', 'prop_utm', 'prop_tags', 'prop_items']);
    const checked = names.filter((n) => n !== '_kafka_partition' && n !== '_kafka_offset');
    expect(diffRows(expected, pyRead, { key: 'event_id', columns: checked, json: jsonColumns })).toEqual([]);
    expect(diffRows(expected, trinoRead, { key: 'event_id', columns: checked, json: jsonColumns })).toEqual([]);
    expect(new Set(pyRead.map((r) => `${r['_kafka_partition']}/${r['_kafka_offset']}`)).size).toBe(550);

    // Schema evolution: prop_title is a new field id in a new schema; files written before it lack the column and both
    // engines read it as null there.
    expect(table.schemas.length).toBeGreaterThanOrEqual(2);
    const [firstSchema] = table.schemas;
    const title = fields.find((f) => f.name === 'prop_title');
    expect(firstSchema?.fields.map((f) => f.name)).not.toContain('prop_title');
    expect(title?.id).toBe(Math.max(...fields.map((f) => f.id)));
    expect(table.scan.files.filter((f) => !('prop_title' in f.parquet_field_ids)).length).toBeGreaterThan(0);
    const numberOf = (r: Row) => Number(String(r['event_id']).slice(s.id.length + 1));
    for (const rows of [pyRead, trinoRead]) {
      expect(rows.filter((r) => numberOf(r) < 450 && r['prop_title'] !== null)).toEqual([]);
      expect(rows.filter((r) => r['prop_title'] !== null).length).toBe(produced.filter((p) => typeof (p.event.properties as Record<string, unknown>)['title'] === 'string').length);
    }

    // Time travel to the last snapshot before the evolution: that snapshot's schema, the same rows in both engines.
    const before = table.snapshots.filter((sn) => sn.schema_id === firstSchema?.schema_id && sn.summary['engine-name'] === 'event-pipeline').at(-1);
    expect(before?.summary['total-records']).toBe('450');
    const old = await readWithPyIceberg(py, s.namespace, 'events', { snapshotId: before?.snapshot_id as string });
    expect(old.table.scan.columns).not.toContain('prop_title');
    const oldColumns = columnsOf(old);
    const oldTrino = trinoRows(oldColumns, (await sql(`SELECT ${trinoSelectList(oldColumns)} FROM ${lake('events')} FOR VERSION AS OF ${before?.snapshot_id}`)).rows);
    expect(old.rows).toHaveLength(450);
    expect(diffRows(oldTrino, pyRows(oldColumns, old.rows), { key: 'event_id', columns: oldColumns.map((c) => c.name) })).toEqual([]);

    // A filter on the partition columns (event_type, day of occurred_at) prunes files in PyIceberg's plan.
    const target = produced.find((p) => p.event.event_type === 'click' && Math.floor(Date.parse(p.event.occurred_at) / DAY) === Math.floor(NOW / DAY) - 1);
    const day = Math.floor(Date.parse(target?.event.occurred_at ?? '') / DAY);
    // ISO 8601 with an explicit offset, as PyIceberg's timestamptz literals want it.
    const from = new Date(day * DAY).toISOString().replace('Z', '+00:00');
    const to = new Date((day + 1) * DAY).toISOString().replace('Z', '+00:00');
    const pruned = await readWithPyIceberg(py, s.namespace, 'events', {
      filter: `event_type = 'click' AND occurred_at >= '${from}' AND occurred_at < '${to}'`,
      columns: ['event_id', 'event_type', 'occurred_at'],
    });
    const wanted = produced
      .filter((p) => p.event.event_type === 'click' && Math.floor(Date.parse(p.event.occurred_at) / DAY) === day)
      .map((p) => p.event.event_id)
      .sort();
    expect(wanted.length).toBeGreaterThan(0);
    expect(pruned.table.scan.columns).toEqual(['event_id', 'event_type', 'occurred_at']);
    expect(pruned.rows.map((r) => r['event_id']).sort()).toEqual(wanted);
    expect(pruned.table.scan.files.length).toBeGreaterThan(0);
    expect(pruned.table.scan.files.length).toBeLessThan(table.scan.files.length);
    expect(pruned.table.scan.files.filter((f) => f.partition['event_type'] !== 'click' || f.partition['occurred_at_day'] !== String(day))).toEqual([]);
    expect(pruned.table.scan.files.reduce((n, f) => n + f.record_count, 0)).toBe(wanted.length);
    const trinoPruned = await sql(`SELECT event_id FROM ${lake('events')} WHERE event_type = 'click' AND occurred_at >= from_iso8601_timestamp('${from}') AND occurred_at < from_iso8601_timestamp('${to}')`);
    expect(trinoPruned.rows.map((r) => r[0]).sort()).toEqual(wanted);

    // The aggregate table, the same way.
    const agg = await readWithPyIceberg(py, s.namespace, 'agg_sessions');
    const aggColumns = columnsOf(agg);
    const aggPy = pyRows(aggColumns, agg.rows);
    const aggTrino = trinoRows(aggColumns, (await sql(`SELECT ${trinoSelectList(aggColumns)} FROM ${lake('agg_sessions')}`)).rows);
    expect(footerIdMismatches(agg.table)).toEqual([]);
    expect(diffRows(aggTrino, aggPy, { key: 'window_start', columns: aggColumns.map((c) => c.name) })).toEqual([]);
    const aggExpected = Array.from({ length: 5 }, (_, n): Row => {
      const r = aggregateRecord('sessions', n, NOW);
      return {
        aggregate: r.aggregate,
        window_start: micros(Date.parse(r.window_start)),
        window_end: micros(Date.parse(r.window_end)),
        event_count: String(r.event_count),
        group_json: r.group,
        estimated: r.estimated,
        g_event_type: r.group['event_type'],
        m_users: r.measures['users'],
        m_revenue: r.measures['revenue'],
        _kafka_topic: `${s.aggPrefix}sessions`,
      };
    });
    expect(diffRows(aggExpected, aggPy, { key: 'window_start', columns: Object.keys(aggExpected[0] as Row), json: new Set(['group_json', 'estimated']) })).toEqual([]);
  }, 300_000);

  it('catches a data file whose field ids point at the wrong columns, which agreement between engines alone would not', async () => {
    const config = readConfig(process.env);
    const catalog = createJdbcCatalog(config);
    cleanup.add(() => catalog.close());
    await sql(`CREATE SCHEMA IF NOT EXISTS lake.${s.namespace}`);
    await sql(`CREATE TABLE ${lake('swapped_ids')} (event_id varchar, city varchar, country varchar, n bigint)`);
    const loaded = await loadTable(catalog, s3, s.namespace, 'swapped_ids');
    if (!loaded) throw new Error('swapped_ids is not in the catalog');
    const fields = currentFields(loaded.metadata);
    const idOf = (name: string) => fields.find((f) => f.name === name)?.id ?? -1;
    const rows: Row[] = [
      { event_id: 'r1', city: 'Köln', country: 'DE', n: '1' },
      { event_id: 'r2', city: '東京', country: 'JP', n: '2' },
    ];
    // The writer fault under test: city and country written under each other's field id.
    const fileFields = fields.map((f) => (f.name === 'city' ? { ...f, id: idOf('country') } : f.name === 'country' ? { ...f, id: idOf('city') } : f));
    const bytes = encodeParquet(buildArrowTableFromColumns(fileFields, fileFields.map((f) => rows.map((r) => r[f.name]))));
    const { bucket, key } = parseS3Location(`${loaded.metadata.location}/data/swapped.parquet`);
    await uploadObject(s3, bucket, key, bytes);
    await appendFiles({ catalog, s3, namespace: s.namespace, table: 'swapped_ids', files: [{ path: `s3://${bucket}/${key}`, sizeBytes: bytes.length, recordCount: rows.length, partition: {} }] });

    const read = await readWithPyIceberg(py, s.namespace, 'swapped_ids');
    const columns = columnsOf(read);
    const names = columns.map((c) => c.name);
    const pyRead = pyRows(columns, read.rows);
    const trinoRead = trinoRows(columns, (await sql(`SELECT ${trinoSelectList(columns)} FROM ${lake('swapped_ids')}`)).rows);
    // Both engines follow the ids, so they agree with each other...
    expect(diffRows(trinoRead, pyRead, { key: 'event_id', columns: names })).toEqual([]);
    // ...and only the produced values and the footer's ids show the fault.
    expect(diffRows(rows, pyRead, { key: 'event_id', columns: names })).toEqual([
      'r1.city: expected "Köln", got "DE"',
      'r1.country: expected "DE", got "Köln"',
      'r2.city: expected "東京", got "JP"',
      'r2.country: expected "JP", got "東京"',
    ]);
    expect(footerIdMismatches(read.table)).toEqual([
      `swapped.parquet: city has field id ${idOf('country')}, the table says ${idOf('city')}`,
      `swapped.parquet: country has field id ${idOf('city')}, the table says ${idOf('country')}`,
    ]);
  }, 120_000);
});
