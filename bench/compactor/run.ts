/**
 * npm run bench:compactor   (build first: npx nx build compactor)
 *
 * One run on the local stack, one sample of events (the collector's load-generator mix, shaped as
 * cleaned events), written to bench/results/compactor.json:
 *  1. Parquet encode rows/s of libs/lake (NDJSON text -> rows -> Arrow -> Parquet zstd, and rows ->
 *     Parquet alone), against DuckDB converting the same NDJSON file to Parquet zstd.
 *  2. Kafka-to-lake rows/s: the built compactor drains a pre-filled events topic into a fresh table.
 *  3. Lake bytes per event (Parquet files the compactor committed) against JSON bytes per event.
 *  4. Freshness at a steady 5k events/s: produce-acknowledged on the cleaned-events topic -> row
 *     visible in a Trino SELECT: the compactor's share of freshness (bench:e2e measures all of it).
 *  5. The three crash runs of the integration suite (SIGKILL after upload, after commit, during a
 *     multipart upload): lost and duplicated events.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildArrowTableFromColumns, encodeParquet, type IcebergField } from '@pipeline/lake';
import { encodeFramedValue, type CleanEvent } from '@pipeline/schemas';
import { LOADGEN_SCHEMAS, createEventMix } from '../../apps/producer/src/loadgen/event-mix';
import { propertyColumns } from '../../apps/compactor/src/schema/property-columns';
import { icebergType, rowsToColumns, type ColumnKind } from '../../apps/compactor/src/tables/columns';
import { EVENT_BASE_COLUMNS } from '../../apps/compactor/src/tables/definitions';
import { createEventRowMapper, type MappedProperty } from '../../apps/compactor/src/tables/event-rows';
import {
  createTopics,
  kafka,
  killCompactors,
  lakeCounts,
  produceEvents,
  registerSchema,
  scenario,
  sql,
  startCompactor,
  transactionalProducer,
  type Scenario,
} from '../../apps/compactor/test/support/harness';
import { runBench, writeResult } from '../lib/results';
import { crashRuns } from './crash-runs';
import { scenarioCleanup } from './cleanup';

const quick = process.argv.includes('--quick');
const SAMPLE = quick ? 20_000 : 200_000;
const FRESHNESS_RATE = 5_000;
const FRESHNESS_SECONDS = quick ? 10 : 60;

function log(message: string): void {
  process.stderr.write(`[bench:compactor ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** The sample: load-generator events as the processor would emit them. */
function sampleEvents(runId: string, count: number, now = Date.now()): CleanEvent[] {
  const mix = createEventMix({ runId, seed: 7 });
  return Array.from({ length: count }, () => {
    const e = mix.next(now);
    const iso = new Date(now).toISOString();
    return {
      event_id: e.event_id,
      event_type: e.event_type,
      occurred_at: e.occurred_at,
      received_at: iso,
      user_id: e.user_id ?? null,
      anonymous_id: e.anonymous_id ?? null,
      properties: e.properties as CleanEvent['properties'],
      context: e.context as CleanEvent['context'],
      enrichment: { processed_at: iso, ua_browser: 'Chrome', ua_browser_version: '128.0', ua_os: 'Windows', ua_device_type: 'desktop' },
    };
  });
}

/** The events table's columns for the mix (base columns, then every type's properties), as the compactor lays them out. */
function lakeColumns(): { fields: IcebergField[]; kinds: Map<string, ColumnKind>; props: Map<string, MappedProperty[]> } {
  const kinds = new Map<string, ColumnKind>(EVENT_BASE_COLUMNS.map((c) => [c.name, c.kind]));
  const props = new Map<string, MappedProperty[]>();
  for (const [type, schema] of Object.entries(LOADGEN_SCHEMAS)) {
    const { columns } = propertyColumns(schema);
    props.set(type, columns);
    for (const c of columns) if (!kinds.has(c.column)) kinds.set(c.column, c.kind);
  }
  const fields = [...kinds].map(([name, kind], i) => ({ id: i + 1, name, type: icebergType(kind), required: false }));
  return { fields, kinds, props };
}

/** Rows -> Parquet files, one per event type (table partition), as a flush writes them. */
function encodeLake(events: CleanEvent[], layout: ReturnType<typeof lakeColumns>): { bytes: number; files: number } {
  const byType = new Map<string, CleanEvent[]>();
  for (const e of events) {
    let list = byType.get(e.event_type);
    if (!list) byType.set(e.event_type, (list = []));
    list.push(e);
  }
  let bytes = 0;
  for (const [type, list] of byType) {
    // The compactor's own row mapping (flush/flusher.ts maps each record the same way).
    const map = createEventRowMapper(layout.fields, layout.props.get(type) ?? []);
    const rows = list.map((e, r) => map(e, 1, { topic: 'events.clean', partition: r % 6, offset: BigInt(r) }));
    const columns = rowsToColumns(layout.fields.length, rows, (row) => (typeof row === 'string' ? [] : row));
    const parquet = encodeParquet(buildArrowTableFromColumns(layout.fields, columns), { plainColumns: ['event_id', '_kafka_offset', 'received_at', 'processed_at', 'occurred_at'] });
    bytes += parquet.length;
  }
  return { bytes, files: byType.size };
}

/** Rounds of the encode phase; each path keeps its best. */
const ENCODE_ROUNDS = 3;

async function encodeBench(events: CleanEvent[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-compactor-'));
  try {
    const ndjson = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const ndjsonPath = join(dir, 'events.ndjson');
    writeFileSync(ndjsonPath, ndjson);
    const jsonBytesPerEvent = Buffer.byteLength(ndjson) / events.length;
    const layout = lakeColumns();

    // Warm up both paths once (JIT, wasm instantiation, DuckDB extension load).
    encodeLake(events.slice(0, 5_000), layout);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    await db.run(`COPY (SELECT * FROM read_json_auto('${ndjsonPath}') LIMIT 1000) TO '${join(dir, 'warm.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);

    // Best of ENCODE_ROUNDS for each path, the paths alternating: one pass each is at the mercy of
    // whatever else the shared machine did in that second.
    let ndjsonToParquetMs = Infinity;
    let encodeOnlyMs = Infinity;
    let duckMs = Infinity;
    let fromText: ReturnType<typeof encodeLake> | undefined;
    let rowsOnly: ReturnType<typeof encodeLake> | undefined;
    const duckOut = join(dir, 'duck.parquet');
    for (let round = 0; round < ENCODE_ROUNDS; round++) {
      let t = performance.now();
      const parsed = ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CleanEvent);
      fromText = encodeLake(parsed, layout);
      ndjsonToParquetMs = Math.min(ndjsonToParquetMs, performance.now() - t);

      t = performance.now();
      rowsOnly = encodeLake(events, layout);
      encodeOnlyMs = Math.min(encodeOnlyMs, performance.now() - t);

      t = performance.now();
      await db.run(`COPY (SELECT * FROM read_json_auto('${ndjsonPath}')) TO '${duckOut}' (FORMAT parquet, COMPRESSION zstd)`);
      duckMs = Math.min(duckMs, performance.now() - t);
    }
    if (fromText === undefined || rowsOnly === undefined) throw new Error('no encode round ran');
    const threads = await db.runAndReadAll(`SELECT current_setting('threads')`);
    db.closeSync();
    return {
      jsonBytesPerEvent,
      ours_ndjson_rows_per_sec: events.length / (ndjsonToParquetMs / 1000),
      ours_encode_only_rows_per_sec: events.length / (encodeOnlyMs / 1000),
      duckdb_rows_per_sec: events.length / (duckMs / 1000),
      duckdb_threads: Number(threads.getRows()[0]?.[0]),
      ours_bytes_per_event_one_batch: rowsOnly.bytes / events.length,
      duckdb_bytes_per_event: statSync(duckOut).size / events.length,
      files: fromText.files,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Registers the mix's schemas; `extra` properties are added to every type (the freshness run's batch number). */
async function registerMix(s: Scenario, extra: Record<string, unknown> = {}): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const [type, schema] of Object.entries(LOADGEN_SCHEMAS)) {
    const withExtra = { ...schema, properties: { ...(schema['properties'] as Record<string, unknown>), ...extra } };
    ids.set(type, await registerSchema(s, type, withExtra));
  }
  return ids;
}

/**
 * Answer times of `GET /healthz` every 250 ms until stopped: what a liveness probe sees while the
 * compactor works (its event loop must stay free to answer).
 */
function probeHealthz(url: string): { stop: () => Promise<{ count: number; p99: number; max: number }> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { count: times.length, p99: percentile(times, 99), max: Math.max(0, ...times) };
    },
  };
}

async function kafkaToLake(events: CleanEvent[]) {
  const s = scenario('bench_cmp_drain');
  await createTopics(s, 6);
  const cleanup = scenarioCleanup(s);
  try {
    const ids = await registerMix(s);
    const producer = await transactionalProducer(s.id);
    await produceEvents(producer, s.eventsTopic, events.map((event) => ({ event, schemaId: ids.get(event.event_type) as number })), 2_000);
    await producer.disconnect();
    log(`drain: ${events.length} events in Kafka; starting the compactor`);
    const started = performance.now();
    const compactor = await startCompactor(s, { FLUSH_MAX_AGE_MS: '5000', FLUSH_MAX_ROWS: '250000', BUFFER_MEMORY_CAP_BYTES: String(512 * 1024 * 1024), LOG_LEVEL: 'warn' }, 'bench-drain');
    const ready = performance.now();
    const probe = probeHealthz(compactor.url);
    for (;;) {
      if ((await compactor.metric('pipeline_compactor_rows_written_total')) >= events.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const done = performance.now();
    const healthz = await probe.stop();
    await compactor.stop();
    const counts = await lakeCounts(s);
    const files = await sql(`SELECT count(*), sum(file_size_in_bytes), sum(record_count) FROM lake.${s.namespace}."events$files"`);
    const [fileCount, fileBytes, records] = (files.rows[0] ?? []).map(Number) as [number, number, number];
    return {
      rowsPerSec: events.length / ((done - ready) / 1000),
      rowsPerSecWithStartup: events.length / ((done - started) / 1000),
      lakeBytesPerEvent: fileBytes / records,
      files: fileCount,
      counts,
      healthz,
    };
  } finally {
    await cleanup();
  }
}

async function freshness() {
  const s = scenario('bench_cmp_fresh');
  await createTopics(s, 6);
  const cleanup = scenarioCleanup(s);
  try {
    const ids = await registerMix(s, { batch: { type: 'integer' } });
    const compactor = await startCompactor(s, { LOG_LEVEL: 'warn', FLUSH_MAX_AGE_MS: '2000' }, 'bench-fresh');
    const producer = await transactionalProducer(s.id);
    const mix = createEventMix({ runId: `${s.id}-f`, seed: 11 });
    const tickMs = 100;
    const perTick = (FRESHNESS_RATE * tickMs) / 1000;
    const acked = new Map<number, number>();
    const visible = new Map<number, number>();
    let stop = false;
    let lowest = 0;
    let lastAck = Date.now();
    // The poller: which batches are fully visible, asking only about batches not yet seen (stats prune old files).
    const poller = (async () => {
      while (!stop || visible.size < acked.size) {
        const res = await sql(`SELECT prop_batch, count(*) FROM lake.${s.namespace}.events WHERE prop_batch >= ${lowest} GROUP BY 1`).catch(() => ({ rows: [] as unknown[][] }));
        const at = Date.now();
        for (const [batch, count] of res.rows as Array<[number, number]>) {
          if (count === perTick && !visible.has(batch)) visible.set(batch, at);
        }
        while (visible.has(lowest)) lowest++;
        if (stop && Date.now() - lastAck > 60_000) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const t0 = Date.now();
    const tx = FRESHNESS_SECONDS * (1000 / tickMs);
    for (let batch = 0; batch < tx; batch++) {
      const due = t0 + batch * tickMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = Date.now();
      const events = Array.from({ length: perTick }, () => {
        const e = mix.next(now);
        const iso = new Date(now).toISOString();
        // `batch` rides along as a property (a column of every type's row) so the poller can find it.
        const event: CleanEvent = { event_id: e.event_id, event_type: e.event_type, occurred_at: e.occurred_at, received_at: iso, user_id: e.user_id ?? null, anonymous_id: e.anonymous_id ?? null, properties: { ...(e.properties as CleanEvent['properties']), batch }, context: e.context as CleanEvent['context'], enrichment: { processed_at: iso, ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null } };
        return event;
      });
      const t = await producer.transaction();
      await t.send({ topic: s.eventsTopic, messages: events.map((e) => ({ key: e.user_id ?? e.anonymous_id ?? e.event_id, value: encodeFramedValue(ids.get(e.event_type) as number, e) })) });
      await t.commit();
      acked.set(batch, Date.now());
      lastAck = Date.now();
    }
    const produceSeconds = (Date.now() - t0) / 1000;
    stop = true;
    await poller;
    await producer.disconnect();
    const compactorFreshness = await compactor.metric('pipeline_compactor_freshness_seconds_sum');
    const compactorFreshnessCount = await compactor.metric('pipeline_compactor_freshness_seconds_count');
    await compactor.stop();
    const lags = [...acked].filter(([b]) => visible.has(b)).map(([b, at]) => ((visible.get(b) as number) - at) / 1000);
    const files = await sql(`SELECT count(*), sum(file_size_in_bytes), sum(record_count) FROM lake.${s.namespace}."events$files"`);
    const [fileCount, fileBytes, records] = (files.rows[0] ?? []).map(Number) as [number, number, number];
    return {
      rate: (acked.size * perTick) / produceSeconds,
      batches: acked.size,
      visibleBatches: lags.length,
      p50: percentile(lags, 50),
      p95: percentile(lags, 95),
      max: Math.max(...lags),
      compactorMeanFreshness: compactorFreshness / Math.max(1, compactorFreshnessCount),
      lakeBytesPerEvent: fileBytes / records,
      files: fileCount,
    };
  } finally {
    await cleanup();
  }
}

async function main(): Promise<void> {
  const runId = `bench-${Date.now().toString(36)}`;
  log(`sample: ${SAMPLE} events`);
  const events = sampleEvents(runId, SAMPLE);

  log('encode: libs/lake vs DuckDB');
  const enc = await encodeBench(events);
  log(`encode: ours ${Math.round(enc.ours_ndjson_rows_per_sec)} rows/s from NDJSON (${Math.round(enc.ours_encode_only_rows_per_sec)} from rows), DuckDB ${Math.round(enc.duckdb_rows_per_sec)} rows/s`);

  log('kafka to lake');
  const drain = await kafkaToLake(events);
  log(`kafka to lake: ${Math.round(drain.rowsPerSec)} rows/s, ${round(drain.lakeBytesPerEvent)} B/event in ${drain.files} files; /healthz answered in at most ${Math.round(drain.healthz.max)} ms`);

  log(`freshness at ${FRESHNESS_RATE} events/s for ${FRESHNESS_SECONDS} s`);
  const fresh = await freshness();
  log(`freshness: p50 ${round(fresh.p50)} s, p95 ${round(fresh.p95)} s at ${Math.round(fresh.rate)} events/s`);

  log('crash runs');
  const crashes = await crashRuns(log);
  killCompactors();

  const lost = crashes.reduce((n, c) => n + c.lost, 0);
  const duplicates = crashes.reduce((n, c) => n + c.duplicates, 0);
  const path = writeResult({
    name: 'compactor',
    metrics: {
      sample_events: SAMPLE,
      json_bytes_per_event: round(enc.jsonBytesPerEvent, 1),
      encode_rows_per_sec: Math.round(enc.ours_ndjson_rows_per_sec),
      encode_only_rows_per_sec: Math.round(enc.ours_encode_only_rows_per_sec),
      duckdb_rows_per_sec: Math.round(enc.duckdb_rows_per_sec),
      duckdb_threads: enc.duckdb_threads,
      duckdb_bytes_per_event: round(enc.duckdb_bytes_per_event, 1),
      encode_bytes_per_event_one_batch: round(enc.ours_bytes_per_event_one_batch, 1),
      kafka_to_lake_rows_per_sec: Math.round(drain.rowsPerSec),
      kafka_to_lake_rows_per_sec_with_startup: Math.round(drain.rowsPerSecWithStartup),
      kafka_to_lake_files: drain.files,
      kafka_to_lake_rows: drain.counts.rows,
      kafka_to_lake_distinct_event_ids: drain.counts.distinct,
      kafka_to_lake_healthz_probes: drain.healthz.count,
      kafka_to_lake_healthz_p99_ms: round(drain.healthz.p99, 1),
      kafka_to_lake_healthz_max_ms: round(drain.healthz.max, 1),
      lake_bytes_per_event: round(drain.lakeBytesPerEvent, 1),
      freshness_events_per_sec: Math.round(fresh.rate),
      freshness_batches: fresh.batches,
      freshness_visible_batches: fresh.visibleBatches,
      freshness_p50_s: round(fresh.p50),
      freshness_p95_s: round(fresh.p95),
      freshness_max_s: round(fresh.max),
      freshness_compactor_mean_received_to_commit_s: round(fresh.compactorMeanFreshness),
      freshness_lake_bytes_per_event: round(fresh.lakeBytesPerEvent, 1),
      freshness_files: fresh.files,
      crash_runs: crashes,
      duplicates,
      lost,
    },
    ratios: {
      encode_vs_duckdb: round(enc.ours_ndjson_rows_per_sec / enc.duckdb_rows_per_sec, 3),
      encode_only_vs_duckdb: round(enc.ours_encode_only_rows_per_sec / enc.duckdb_rows_per_sec, 3),
      lake_bytes_vs_json: round(drain.lakeBytesPerEvent / enc.jsonBytesPerEvent, 3),
      freshness_lake_bytes_vs_json: round(fresh.lakeBytesPerEvent / enc.jsonBytesPerEvent, 3),
    },
    targets: {
      encode_vs_duckdb: '>= 0.25',
      lake_bytes_vs_json: '<= 0.1',
      freshness_p95_s: '<= 10',
      duplicates: 0,
      lost: 0,
    },
    notes: [
      `encode_vs_duckdb compares like with like: both start from the same NDJSON file and end with Parquet zstd; ours includes JSON.parse and the compactor column mapping, single-threaded, while DuckDB uses duckdb_threads threads; each path keeps the best of ${ENCODE_ROUNDS} alternating rounds. encode_only_* starts from parsed events.`,
      "Freshness is measured from the produce acknowledgement of a transaction on the cleaned-events topic (what the stream processor does) to the batch being complete in a Trino SELECT polled every 250 ms (the compactor's share). Freshness from the collector's acknowledgement through the stream processor is measured by bench:e2e (bench/results/e2e.json).",
      'lake_bytes_vs_json uses the files the compactor committed while draining the sample from Kafka (large flushes); freshness_lake_bytes_vs_json the small files of the 2 s freshness flushes, before optimize merges them.',
      `The machine is shared (2 cores run Kafka, Trino, PostgreSQL, the registry, the object store, the compactor and this bench); see machine.load_average_at_start.${quick ? ' --quick run: harness check only.' : ''}`,
    ],
  });
  log(`wrote ${path}`);
  await kafka.admin().disconnect().catch(() => undefined);
  process.exit(0);
}

runBench(main);

