const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a Trino-style duration (`7d`, `1h`, `30m`, `0s`, `1.5h`); NaN when malformed. */
export function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Midnight UTC of the day `daysBack` days before `nowMs`, as a Trino timestamp literal. */
export function dayStartLiteral(nowMs: number, daysBack: number): string {
  const day = Math.floor(nowMs / 86_400_000) - daysBack;
  return `TIMESTAMP '${new Date(day * 86_400_000).toISOString().slice(0, 10)} 00:00:00 UTC'`;
}
