import { readFileSync } from 'node:fs';
import { aggregateTopic } from '@pipeline/schemas';
import { parseAggregateConfig, type ConfigProblem, type WindowingConfig } from '@pipeline/windowing';
import shipped from '../../aggregates.json';

/**
 * The field holding the partition key (`user_id ?? anonymous_id`). Every event of one user_key is on
 * one input partition, so an aggregate grouped by it is complete on that partition alone.
 */
export const USER_KEY_FIELD = 'user_key';

/** Event-time fields an aggregate may be timed by. */
const TIME_FIELDS = ['occurred_at', 'received_at'];

export interface AggregatesConfig {
  readonly windowing: WindowingConfig;
  /**
   * Aggregates whose groups never span input partitions (grouped by user_key): each partition's
   * results are final. The others are merged across partitions by the merge stage.
   */
  readonly local: ReadonlySet<string>;
  /** True when some aggregate needs the merge stage. */
  readonly needsMerge: boolean;
}

export type AggregatesConfigResult = { ok: true; config: AggregatesConfig } | { ok: false; problems: ConfigProblem[] };

/**
 * Validates a declared-aggregates document (libs/windowing format) plus the processor's own rules:
 * the time field is occurred_at or received_at, names fit `agg.<name>` topics, and session windows
 * are grouped by user_key (sessions cannot be merged across partitions). Never throws.
 */
export function parseAggregatesConfig(input: unknown): AggregatesConfigResult {
  const parsed = parseAggregateConfig(input);
  if (!parsed.ok) return { ok: false, problems: [...parsed.problems] };
  const windowing = parsed.config;
  const problems: ConfigProblem[] = [];
  if (!TIME_FIELDS.includes(windowing.timeField)) {
    problems.push({ path: 'timeField', message: `must be one of ${TIME_FIELDS.join(', ')}` });
  }
  const local = new Set<string>();
  windowing.aggregates.forEach((aggregate, i) => {
    try {
      aggregateTopic(aggregate.name);
    } catch (err) {
      problems.push({ path: `aggregates.${i}.name`, message: (err as Error).message });
    }
    const isLocal = aggregate.groupBy.includes(USER_KEY_FIELD);
    if (isLocal) local.add(aggregate.name);
    if (aggregate.window.type === 'session' && !isLocal) {
      problems.push({
        path: `aggregates.${i}.groupBy`,
        message: `session windows must group by "${USER_KEY_FIELD}" (sessions are computed per input partition and cannot be merged across partitions)`,
      });
    }
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { windowing, local, needsMerge: windowing.aggregates.some((a) => !local.has(a.name)) } };
}

/** Reads and validates the aggregates file (the shipped defaults when `path` is undefined); throws Error listing every problem. */
export function loadAggregatesConfig(path: string | undefined): AggregatesConfig {
  let input: unknown = shipped;
  if (path !== undefined) {
    try {
      input = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`aggregates file ${path}: ${(err as Error).message}`);
    }
  }
  const result = parseAggregatesConfig(input);
  if (!result.ok) {
    throw new Error(`invalid aggregates config${path === undefined ? '' : ` in ${path}`}:\n${result.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
  return result.config;
}

/**
 * The merge stage treats an input partition it has not heard from for the watermark's idleTimeout
 * as idle, and partitions tell it their watermark at least every PROGRESS_INTERVAL_MS: that must
 * be well under the timeout, or busy partitions would count as idle. Throws Error naming both.
 */
export function checkProgressInterval(progressIntervalMs: number, aggregates: AggregatesConfig): void {
  const idleMs = aggregates.windowing.watermark.idleTimeout;
  if (aggregates.needsMerge && progressIntervalMs * 2 > idleMs) {
    throw new Error(`PROGRESS_INTERVAL_MS (${progressIntervalMs}) must be at most half the aggregates' watermark idleTimeout (${idleMs} ms)`);
  }
}
