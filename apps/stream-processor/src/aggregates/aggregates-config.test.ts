import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AGGREGATES } from '@pipeline/windowing';
import { checkProgressInterval, loadAggregatesConfig, parseAggregatesConfig } from './aggregates-config';

describe('aggregates config', () => {
  it('ships the three default aggregates, timed by occurred_at; only sessions are partition-local', () => {
    const config = loadAggregatesConfig(undefined);
    expect(config.windowing.timeField).toBe('occurred_at');
    expect(config.windowing.aggregates).toEqual(DEFAULT_AGGREGATES);
    expect([...config.local]).toEqual(['user_sessions']);
    expect(config.needsMerge).toBe(true);
  });

  it.each([
    ['an unknown time field', { timeField: 'timestamp' }, 'timeField'],
    ['a session not grouped by user_key', { aggregates: [{ name: 's', window: { type: 'session', gap: '5m' }, groupBy: ['event_type'], measures: [{ kind: 'count' }] }] }, 'aggregates.0.groupBy'],
    ['a name too long for a topic', { aggregates: [{ name: `a${'b'.repeat(120)}`, window: { type: 'tumbling', size: '1m' }, measures: [{ kind: 'count' }] }] }, 'aggregates.0.name'],
    ['a windowing error', { aggregates: [{ name: 'x', window: { type: 'tumbling', size: 0 }, measures: [{ kind: 'count' }] }] }, 'aggregates.0.window.size'],
  ])('rejects %s with its path', (_label, doc, path) => {
    const result = parseAggregatesConfig({ timeField: 'occurred_at', ...doc });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.path)).toContain(path);
  });

  it('marks an aggregate grouped by user_key as local and needs no merge stage when all are', () => {
    const result = parseAggregatesConfig({
      timeField: 'received_at',
      aggregates: [{ name: 'per_user', window: { type: 'tumbling', size: '1m' }, groupBy: ['user_key', 'event_type'], measures: [{ kind: 'count' }] }],
    });
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect([result.config.needsMerge, [...result.config.local]]).toEqual([false, ['per_user']]);
  });

  it('reads a file and reports its problems with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agg-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ timeField: 'occurred_at', aggregates: [] }));
    expect(() => loadAggregatesConfig(bad)).toThrow(/bad\.json:\n {2}aggregates: /);
    expect(() => loadAggregatesConfig(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });

  it('wants the progress interval at most half the idle timeout when some aggregate is merged', () => {
    const shipped = loadAggregatesConfig(undefined);
    expect(shipped.windowing.watermark.idleTimeout).toBe(60_000);
    expect(() => checkProgressInterval(30_000, shipped)).not.toThrow();
    expect(() => checkProgressInterval(30_001, shipped)).toThrow("PROGRESS_INTERVAL_MS (30001) must be at most half the aggregates' watermark idleTimeout (60000 ms)");
    const onlyLocal = parseAggregatesConfig({ timeField: 'occurred_at', aggregates: [{ name: 's', window: { type: 'session', gap: '5m' }, groupBy: ['user_key'], measures: [{ kind: 'count' }] }] });
    if (!onlyLocal.ok) throw new Error(JSON.stringify(onlyLocal.problems));
    expect(() => checkProgressInterval(600_000, onlyLocal.config)).not.toThrow();
  });
});
