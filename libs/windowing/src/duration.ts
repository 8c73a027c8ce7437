const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export type DurationInput = number | string;

/**
 * Parses a duration given as whole milliseconds (`250`) or a unit string (`"5s"`, `"30m"`, `"1h30m"`)
 * into milliseconds; returns `undefined` for negative, fractional-ms, non-finite or malformed input.
 */
export function parseDuration(input: DurationInput): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  const text = input.trim();
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    const amount = Number(match[1]);
    const unit = match[2] as keyof typeof UNIT_MS;
    total += amount * UNIT_MS[unit];
  }
  // "1.5s" is fine, "0.0001s" is not: sub-millisecond precision would silently round.
  const rounded = Math.round(total);
  return Math.abs(rounded - total) < 1e-6 && Number.isSafeInteger(rounded) ? rounded : undefined;
}
