import type { AggregateSpec, MeasureSpec } from '@pipeline/windowing';
import { groupField, roundMeasure, sortRows, type WindowRow } from './windows';

/**
 * SQL over the lake's tables (the compactor's layout: apps/compactor/README.md) that recomputes a
 * declared aggregate from the events table, and reads the aggregate's own table the way its
 * readers must (the latest record per window and group). Both answer the same columns:
 * window_start_ms, window_end_ms, group_value, event_count and one `m_<measure>` per measure.
 */

const EPOCH = "TIMESTAMP '1970-01-01 00:00:00 UTC'";
const epochMs = (column: string) => `date_diff('millisecond', ${EPOCH}, ${column})`;

/** A column name as the compactor makes it: lower case, anything outside [a-z0-9_] turned into `_`. */
export function lakeColumn(prefix: string, name: string): string {
  return (prefix + name.toLowerCase().replace(/[^a-z0-9_]/g, '_')).slice(0, 128);
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The events-table expression of a field an aggregate reads. */
function eventColumn(field: string): string {
  if (field === 'user_key') return 'coalesce(user_id, anonymous_id)';
  if (field === 'event_type' || field === 'event_id' || field === 'user_id' || field === 'anonymous_id') return field;
  if (field.startsWith('properties.') && !field.slice('properties.'.length).includes('.')) return lakeColumn('prop_', field.slice('properties.'.length));
  throw new Error(`field ${field} has no events-table column in this recomputation`);
}

/** Fields the measures read, each selected from the events table under an alias of its own. */
function measureInputs(spec: AggregateSpec): Map<string, string> {
  const inputs = new Map<string, string>();
  for (const m of spec.measures) if (m.kind !== 'count' && m.kind !== 'duration' && !inputs.has(m.field)) inputs.set(m.field, `f${inputs.size}`);
  return inputs;
}

function measureSql(m: MeasureSpec, inputs: Map<string, string>): string {
  const out = lakeColumn('m_', m.name);
  switch (m.kind) {
    case 'count':
      return `CAST(count(*) AS double) AS ${out}`;
    case 'sum':
      return `coalesce(sum(CAST(${inputs.get(m.field)} AS double)), 0) AS ${out}`;
    case 'min':
    case 'max':
      return `${m.kind}(CAST(${inputs.get(m.field)} AS double)) AS ${out}`;
    case 'distinct':
      return `CAST(count(DISTINCT ${inputs.get(m.field)}) AS double) AS ${out}`;
    case 'duration':
      return `CAST(max(t) - min(t) AS double) AS ${out}`;
  }
}

export interface RecomputeTables {
  events: string;
  /** The late-events table; null when nothing was late (the table may not exist then). */
  late: string | null;
}

/**
 * Recomputes an aggregate from the events table. Late events (rows of the late table for this
 * aggregate) are left out of the windows they missed: for tumbling and hopping windows, those
 * between the row's late_window_start and late_window_end; for sessions, the event altogether.
 */
export function recomputeSql(spec: AggregateSpec, tables: RecomputeTables = { events: 'events', late: 'events_late' }): string {
  const field = groupField(spec);
  const group = field === undefined ? 'CAST(NULL AS varchar)' : eventColumn(field);
  const inputs = measureInputs(spec);
  const selected = [...inputs].map(([f, alias]) => `, ${eventColumn(f)} AS ${alias}`).join('');
  const base = `SELECT event_id, ${group} AS group_value, ${epochMs('occurred_at')} AS t${selected} FROM ${tables.events}`;
  const measures = spec.measures.map((m) => measureSql(m, inputs)).join(', ');
  const name = quote(spec.name);
  const window = spec.window;
  if (window.type === 'session') {
    const counted =
      tables.late === null
        ? base
        : `${base} e0 WHERE NOT EXISTS (SELECT 1 FROM ${tables.late} l WHERE l.event_id = e0.event_id AND l.late_aggregate = ${name})`;
    const order = 'PARTITION BY group_value ORDER BY t, event_id';
    return [
      `WITH e AS (${counted}),`,
      `m AS (SELECT *, CASE WHEN t - lag(t) OVER (${order}) < ${window.gap} THEN 0 ELSE 1 END AS starts FROM e),`,
      `s AS (SELECT *, sum(starts) OVER (${order} ROWS UNBOUNDED PRECEDING) AS session FROM m)`,
      `SELECT min(t) AS window_start_ms, max(t) + ${window.gap} AS window_end_ms, group_value, count(*) AS event_count, ${measures}`,
      'FROM s GROUP BY group_value, session',
    ].join('\n');
  }
  const size = window.size;
  const slide = window.type === 'hopping' ? window.slide : window.size;
  if (size % slide !== 0) throw new Error(`aggregate ${spec.name}: window size ${size} is not a multiple of its slide ${slide}`);
  const late =
    tables.late === null
      ? ''
      : `WHERE NOT EXISTS (SELECT 1 FROM ${tables.late} l WHERE l.event_id = w.event_id AND l.late_aggregate = ${name}` +
        ` AND ${epochMs('l.late_window_start')} <= w.window_start AND w.window_start + ${size} <= ${epochMs('l.late_window_end')})`;
  return [
    `WITH e AS (${base}),`,
    `w AS (SELECT e.*, t - mod(t, ${slide}) - k * ${slide} AS window_start FROM e CROSS JOIN UNNEST(sequence(0, ${size / slide - 1})) AS s (k))`,
    `SELECT window_start AS window_start_ms, window_start + ${size} AS window_end_ms, group_value, count(*) AS event_count, ${measures}`,
    `FROM w ${late}`,
    'GROUP BY window_start, group_value',
  ].join('\n');
}

/**
 * The aggregate's table as its readers must take it: a window the processor wrote again (its late
 * part came after it was first written) appears once per write, and the latest write, the highest
 * Kafka offset of its key (one key, one partition), holds the complete value.
 */
export function latestWindowsSql(spec: AggregateSpec, table: string): string {
  const field = groupField(spec);
  const group = field === undefined ? 'CAST(NULL AS varchar)' : lakeColumn('g_', field);
  const measures = spec.measures.map((m) => lakeColumn('m_', m.name)).join(', ');
  return [
    `SELECT ${epochMs('window_start')} AS window_start_ms, ${epochMs('window_end')} AS window_end_ms, group_value, event_count, ${measures}`,
    `FROM (SELECT *, ${group} AS group_value, row_number() OVER (PARTITION BY window_start, ${group} ORDER BY _kafka_offset DESC) AS latest FROM ${table})`,
    'WHERE latest = 1',
  ].join('\n');
}

/** Rows of either statement (as objects by column name) as {@link WindowRow}s, windows ending after `cutoffMs` left out. */
export function toWindowRows(spec: AggregateSpec, rows: ReadonlyArray<Record<string, unknown>>, cutoffMs = Infinity): WindowRow[] {
  const out: WindowRow[] = [];
  for (const r of rows) {
    const endMs = Number(r['window_end_ms']);
    if (endMs > cutoffMs) continue;
    const measures: Record<string, number> = {};
    for (const m of spec.measures) {
      const v = r[lakeColumn('m_', m.name)];
      measures[m.name] = v === null || v === undefined ? NaN : roundMeasure(Number(v));
    }
    out.push({
      window_start: new Date(Number(r['window_start_ms'])).toISOString(),
      window_end: new Date(endMs).toISOString(),
      group: r['group_value'] === null || r['group_value'] === undefined ? null : String(r['group_value']),
      event_count: Number(r['event_count']),
      measures,
    });
  }
  return sortRows(out);
}
