import fc from 'fast-check';
import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [250, 250],
    ['500ms', 500],
    ['5s', 5_000],
    ['1m', 60_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
  ])('%j -> %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [''], ['5'], ['1y'], ['-5s'], ['5 s'], ['0.0001s'], ['s']])(
    'rejects %j',
    (input) => {
      expect(parseDuration(input)).toBeUndefined();
    },
  );

  it('reads back any whole number of seconds, minutes and hours', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(1000), (h, m, s) => {
        expect(parseDuration(`${h}h${m}m${s}s`)).toBe(((h * 60 + m) * 60 + s) * 1000);
      }),
    );
  });
});
