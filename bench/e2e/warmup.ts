import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig as processorConfig } from '@pipeline/stream-processor/config';
import { parseAggregateConfig } from '@pipeline/windowing';
import { round } from '../../tools/report/src/stats';
import { ROOT } from '../lib/kafka';

/**
 * Seconds until the stream processor's state stops growing at `rate` with its shipped settings,
 * whatever the user population: the dedup set fills (DEDUP_TTL_MS, or DEDUP_MAX_ENTRIES at the
 * rate if that comes first), and each window store holds every window or session that can still
 * receive events (window size or session gap, plus allowed lateness and out-of-orderness).
 */
export function stateWarmup(rate: number): { seconds: number; why: string } {
  const config = processorConfig({});
  const aggregates = parseAggregateConfig(JSON.parse(readFileSync(join(ROOT, 'apps/stream-processor/aggregates.json'), 'utf8')));
  if (!aggregates.ok) throw new Error('apps/stream-processor/aggregates.json is invalid');
  const { watermark } = aggregates.config;
  const parts: Array<[string, number]> = [['dedup', Math.min(config.DEDUP_TTL_MS, (config.DEDUP_MAX_ENTRIES / rate) * 1000)]];
  for (const a of aggregates.config.aggregates) {
    const span = a.window.type === 'session' ? a.window.gap : a.window.size;
    parts.push([a.name, span + (a.allowedLateness ?? watermark.allowedLateness) + watermark.maxOutOfOrderness]);
  }
  const [name, ms] = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { seconds: Math.ceil(ms / 1000), why: `longest ${name}; ${parts.map(([n, v]) => `${n} ${round(v / 60_000, 1)} min`).join(', ')}` };
}

