import fc from 'fast-check';
import { createWatermarkTracker } from './watermark';

const settings = { maxOutOfOrderness: 1_000, idleTimeout: 10_000 };

describe('createWatermarkTracker', () => {
  type Step = ['observe', string, number, number] | ['advance', number];
  it.each<[string, Step[], number]>([
    ['no events: -Infinity', [['advance', 0]], -Infinity],
    ['one partition: max - outOfOrderness', [['observe', 'a', 5_000, 0], ['observe', 'a', 3_000, 1]], 4_000],
    ['two partitions: the slower holds it back', [['observe', 'b', 8_000, 0], ['observe', 'a', 50_000, 0], ['observe', 'a', 60_000, 1]], 7_000],
    [
      'a partition idle for idleTimeout stops holding it back',
      [['observe', 'b', 8_000, 0], ['observe', 'a', 50_000, 0], ['observe', 'a', 60_000, 9_000], ['advance', 10_000]],
      59_000,
    ],
    [
      'one ms short of idleTimeout still holds it back',
      [['observe', 'b', 8_000, 0], ['observe', 'a', 50_000, 0], ['observe', 'a', 60_000, 9_000], ['advance', 9_999]],
      7_000,
    ],
    [
      'all partitions idle: the max over partitions',
      [['observe', 'a', 50_000, 0], ['observe', 'b', 80_000, 0], ['advance', 100_000]],
      79_000,
    ],
    [
      'a partition first seen behind the watermark cannot pull it back',
      [['observe', 'a', 50_000, 0], ['observe', 'b', 8_000, 0]],
      49_000,
    ],
    [
      'never decreases when an idle partition wakes up behind',
      [['observe', 'b', 8_000, 0], ['observe', 'a', 50_000, 0], ['observe', 'a', 60_000, 20_000], ['observe', 'b', 9_000, 20_001]],
      59_000,
    ],
  ])('%s', (_name, steps, expected) => {
    const tracker = createWatermarkTracker(settings);
    for (const step of steps) {
      if (step[0] === 'observe') tracker.observe(step[1], step[2], step[3]);
      else tracker.advance(step[1]);
    }
    expect(tracker.current()).toBe(expected);
  });

  it('is monotonic and never ahead of the highest event time minus outOfOrderness', () => {
    const step = fc.oneof(
      fc.record({ partition: fc.nat(3), t: fc.integer({ min: 0, max: 100_000 }), dt: fc.nat(15_000) }),
      fc.record({ dt: fc.nat(30_000) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 100 }), (steps) => {
        const tracker = createWatermarkTracker(settings);
        let now = 0;
        let maxSeen = -Infinity;
        let previous = tracker.current();
        for (const s of steps) {
          now += s.dt;
          if ('partition' in s) {
            tracker.observe(s.partition, s.t, now);
            maxSeen = Math.max(maxSeen, s.t);
          } else {
            tracker.advance(now);
          }
          expect(tracker.current()).toBeGreaterThanOrEqual(previous);
          expect(tracker.current()).toBeLessThanOrEqual(maxSeen - settings.maxOutOfOrderness);
          previous = tracker.current();
        }
      }),
    );
  });
});
