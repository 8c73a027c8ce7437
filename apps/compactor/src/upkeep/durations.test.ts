import { dayStartLiteral, durationMs } from './durations';

describe('durations', () => {
  it.each([
    ['0s', 0],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    ['250ms', 250],
    ['1w', NaN],
  ])('%s', (text, ms) => expect(durationMs(text)).toBe(ms));

  it('names the start of a past UTC day', () => {
    expect(dayStartLiteral(Date.parse('2026-11-27T10:00:00Z'), 0)).toBe("TIMESTAMP '2026-11-27 00:00:00 UTC'");
    expect(dayStartLiteral(Date.parse('2026-11-27T00:00:00Z'), 30)).toBe("TIMESTAMP '2026-10-28 00:00:00 UTC'");
  });
});
