import fc from 'fast-check';
import { assignWindows } from './windows';

const MIN = 60_000;
const minutes = (pairs: [number, number][]) => pairs.map(([s, e]) => [s * MIN, e * MIN]);

describe('assignWindows', () => {
  it.each([
    ['tumbling: start of a window', { type: 'tumbling', size: MIN } as const, 0, [[0, MIN]]],
    ['tumbling: last ms of a window', { type: 'tumbling', size: MIN } as const, MIN - 1, [[0, MIN]]],
    ['tumbling: exactly at the end belongs to the next window', { type: 'tumbling', size: MIN } as const, MIN, [[MIN, 2 * MIN]]],
    ['tumbling: negative times floor downwards', { type: 'tumbling', size: MIN } as const, -1, [[-MIN, 0]]],
    [
      'hopping 5m/1m: five windows',
      { type: 'hopping', size: 5 * MIN, slide: MIN } as const,
      7 * MIN + 30_000,
      minutes([[3, 8], [4, 9], [5, 10], [6, 11], [7, 12]]),
    ],
    [
      'hopping 5m/1m: at a slide boundary the oldest window has just ended',
      { type: 'hopping', size: 5 * MIN, slide: MIN } as const,
      8 * MIN,
      minutes([[4, 9], [5, 10], [6, 11], [7, 12], [8, 13]]),
    ],
    ['hopping where slide does not divide size', { type: 'hopping', size: 10, slide: 4 } as const, 9, [[0, 10], [4, 14], [8, 18]]],
    ['session: the event\'s own gap window', { type: 'session', gap: 30 * MIN } as const, 1000, [[1000, 1000 + 30 * MIN]]],
  ])('%s', (_name, window, t, expected) => {
    expect(assignWindows(window, t).map((w) => [w.startMs, w.endMs])).toEqual(expected);
  });

  it('hopping: exactly the aligned windows containing t', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: -10_000, max: 10_000 }), (slide, factor, t) => {
        const size = slide * factor + (factor > 1 ? slide - 1 : 0);
        const windows = assignWindows({ type: 'hopping', size, slide }, t);
        const brute: number[] = [];
        for (let s = -20_000; s <= t; s++) if (s % slide === 0 && s <= t && t < s + size) brute.push(s);
        expect(windows.map((w) => w.startMs)).toEqual(brute);
        for (const w of windows) expect(w.endMs - w.startMs).toBe(size);
      }),
      { numRuns: 200 },
    );
  });
});
