import { MINUTE_MS, activeUsers, chartSeries, dlqRate, eventsPerMinute, sessionsStarted, summaryOf, withoutZeros, type SentEvent } from './dashboard-expected';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const S0 = T0 / 1000;
const ev = (eventType: string, offsetMs: number, visitor: string): SentEvent => ({ eventType, occurredAtMs: T0 + offsetMs, visitor });

describe('eventsPerMinute', () => {
  it('counts per type and minute within [from, to), one row per minute and type', () => {
    const events = [ev('view', 0, 'a'), ev('view', 59_999, 'b'), ev('buy', 30_000, 'a'), ev('view', MINUTE_MS, 'a'), ev('view', -1, 'a'), ev('buy', 2 * MINUTE_MS, 'a')];
    const data = eventsPerMinute(events, T0, T0 + 2 * MINUTE_MS);
    expect(data).toEqual({ rows: 3, series: { view: { [S0]: 2, [S0 + 60]: 1 }, buy: { [S0]: 1 } } });
    expect(summaryOf(data)).toEqual({ rows: 3, series: { view: 3, buy: 1 } });
  });
});

describe('activeUsers', () => {
  it('counts each visitor once per minute', () => {
    const events = [ev('view', 0, 'a'), ev('buy', 10, 'a'), ev('view', 20, 'b'), ev('view', MINUTE_MS, 'a')];
    expect(activeUsers(events, T0, T0 + 5 * MINUTE_MS)).toEqual({ rows: 2, series: { active_users: { [S0]: 2, [S0 + 60]: 1 } } });
  });
});

describe('sessionsStarted', () => {
  const gap = 30 * MINUTE_MS;

  it('starts a session only after more than the gap without events, reading one gap before the window', () => {
    const events = [ev('v', 0, 'a'), ev('v', gap, 'a'), ev('v', 2 * gap + 1, 'a'), ev('v', gap + 5 * MINUTE_MS, 'b'), ev('v', 40 * MINUTE_MS, 'c')];
    // a: its visit at +30 min continues the one at 0 (a gap of exactly 30 min), the one at +60 min starts one;
    // b starts at +35 min, c at +40 min. Only starts inside [from, to) count.
    expect(sessionsStarted(events, T0 + 35 * MINUTE_MS, T0 + 120 * MINUTE_MS, gap)).toEqual({
      rows: 3,
      series: { sessions: { [S0 + 35 * 60]: 1, [S0 + 40 * 60]: 1, [S0 + 60 * 60]: 1 } },
    });
    expect(summaryOf(sessionsStarted(events, T0, T0 + 120 * MINUTE_MS, gap))).toEqual({ rows: 4, series: { sessions: 4 } });
  });
});

describe('dlqRate', () => {
  it('gives the percentage of dead-lettered records per minute of processing time', () => {
    const accepted = [T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + MINUTE_MS + 1];
    const failed = [T0 + 4_000, T0 + 2 * MINUTE_MS];
    expect(dlqRate(accepted, failed, T0, T0 + 3 * MINUTE_MS)).toEqual({ rows: 3, series: { dlq_percent: { [S0]: 25, [S0 + 60]: 0, [S0 + 120]: 100 } } });
    expect(summaryOf(dlqRate(accepted, failed, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS))).toEqual({ rows: 1, series: { dlq_percent: 0 } });
  });
});

describe('chartSeries', () => {
  it('reads uPlot data by series name and leaves out empty buckets', () => {
    expect(chartSeries(['buy', 'view'], [[S0, S0 + 60, S0 + 120], [0, 2, null], [1, 0, 3]])).toEqual({ buy: { [S0 + 60]: 2 }, view: { [S0]: 1, [S0 + 120]: 3 } });
    expect(withoutZeros({ dlq_percent: { [S0]: 0, [S0 + 60]: 12.5 } })).toEqual({ dlq_percent: { [S0 + 60]: 12.5 } });
  });
});
