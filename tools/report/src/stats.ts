/**
 * The statistics behind the end-to-end, soak and report figures: percentiles, fixed-width
 * histograms, least-squares trends, and the rules that decide "sustained", "drained" and
 * "recovered". Pure functions over plain numbers, shared by bench/e2e and the report.
 */

/** Nearest-rank percentile of `values` for `q` in [0, 1]; NaN for an empty list. `values` is not modified. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Rounds to `digits` decimals (NaN and infinities pass through). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * A histogram of fixed-width buckets: `[bucket, count]` pairs where bucket `b` counts the values in
 * `[b * width, (b + 1) * width)`. Sparse, sorted by bucket, JSON-friendly.
 */
export interface Histogram {
  width: number;
  buckets: Array<[number, number]>;
}

/** Adds `[bucket, count]` pairs (repeats allowed, any order) into one sorted histogram. */
export function histogramOf(width: number, pairs: Iterable<readonly [number, number]>): Histogram {
  const counts = new Map<number, number>();
  for (const [bucket, count] of pairs) counts.set(bucket, (counts.get(bucket) ?? 0) + count);
  return { width, buckets: [...counts.entries()].sort((a, b) => a[0] - b[0]) };
}

export function histogramCount(h: Histogram): number {
  return h.buckets.reduce((s, [, n]) => s + n, 0);
}

/**
 * The `q` quantile of a histogram, as the upper edge of the bucket holding the nearest-rank value
 * (so it errs high by less than one bucket width); NaN when the histogram is empty.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = histogramCount(h);
  if (total === 0) return Number.NaN;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (const [bucket, count] of h.buckets) {
    seen += count;
    if (seen >= rank) return (bucket + 1) * h.width;
  }
  return Number.NaN;
}

export interface LinearFit {
  /** Change of y per unit of x. */
  slope: number;
  intercept: number;
  /** Coefficient of determination (1 = every point on the line; 0 when y does not vary). */
  r2: number;
  n: number;
}

/** Ordinary least squares y = intercept + slope * x; slope 0 when fewer than two distinct x. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { slope: 0, intercept: Number.NaN, r2: 0, n: 0 };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: 0, intercept: my, r2: 0, n };
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 0 : (sxy * sxy) / (sxx * syy), n };
}

export interface TrendOptions {
  /** An upward trend is flagged when the fitted growth over the run exceeds this share of the mean (e.g. 0.1). */
  maxRelativeGrowth: number;
  /** The mean is taken as at least this much, so a near-zero series does not flag on noise (same unit as y). */
  floor: number;
}

export interface Trend extends LinearFit {
  /** Slope per hour (y units per hour, with x in seconds). */
  slopePerHour: number;
  mean: number;
  /** What the fitted line rises over the samples' time span (y units). */
  growth: number;
  /** growth / max(mean, floor). */
  relativeGrowth: number;
  upward: boolean;
}

/** Least-squares trend of samples taken at `xs` seconds, flagged upward by {@link TrendOptions}. */
export function trend(xs: readonly number[], ys: readonly number[], opts: TrendOptions): Trend {
  const fit = linearFit(xs, ys);
  const n = fit.n;
  const span = n < 2 ? 0 : (xs[n - 1] as number) - (xs[0] as number);
  const m = mean(ys.slice(0, n));
  const growth = fit.slope * span;
  const relativeGrowth = n === 0 ? 0 : growth / Math.max(Math.abs(m), opts.floor);
  return { ...fit, slopePerHour: fit.slope * 3600, mean: m, growth, relativeGrowth, upward: relativeGrowth > opts.maxRelativeGrowth };
}

/** One sample of the end-to-end counters: seconds since the start, events acknowledged and events visible in the lake so far. */
export interface FlowSample {
  t: number;
  acked: number;
  visible: number;
}

export interface StepVerdict {
  /** Acknowledged events per second over the judged window. */
  ackedRate: number;
  /** Events per second that became visible over the judged window. */
  visibleRate: number;
  /** Least-squares slope of the backlog (acknowledged minus visible), events per second per second. */
  backlogSlope: number;
  sustained: boolean;
  reason: string;
}

export interface StepRules {
  /** Acknowledged rate at least this share of the offered rate (the collector kept up). */
  minAckedShare: number;
  /** Visible rate at least this share of the acknowledged rate (the lake kept up). */
  minVisibleShare: number;
  /** Backlog growth at most this share of the offered rate, per second (lag does not grow). */
  maxBacklogSlopeShare: number;
}

export const DEFAULT_STEP_RULES: StepRules = { minAckedShare: 0.95, minVisibleShare: 0.9, maxBacklogSlopeShare: 0.05 };

/**
 * Whether a load step at `offeredRate` events/s was sustained end to end, judged on the samples
 * of its window: the collector acknowledged what was offered, the lake took what was acknowledged,
 * and the backlog between them did not grow.
 */
export function judgeStep(samples: readonly FlowSample[], offeredRate: number, rules: StepRules = DEFAULT_STEP_RULES): StepVerdict {
  if (samples.length < 3) return { ackedRate: 0, visibleRate: 0, backlogSlope: 0, sustained: false, reason: 'too few samples' };
  const first = samples[0] as FlowSample;
  const last = samples[samples.length - 1] as FlowSample;
  const span = last.t - first.t;
  const ackedRate = (last.acked - first.acked) / span;
  const visibleRate = (last.visible - first.visible) / span;
  const backlogSlope = linearFit(
    samples.map((s) => s.t),
    samples.map((s) => s.acked - s.visible),
  ).slope;
  const problems: string[] = [];
  if (ackedRate < rules.minAckedShare * offeredRate) problems.push(`acknowledged ${Math.round(ackedRate)}/s of ${offeredRate}/s offered`);
  if (visibleRate < rules.minVisibleShare * ackedRate) problems.push(`lake took ${Math.round(visibleRate)}/s of ${Math.round(ackedRate)}/s acknowledged`);
  if (backlogSlope > rules.maxBacklogSlopeShare * offeredRate) problems.push(`backlog grew ${Math.round(backlogSlope)} events/s`);
  return { ackedRate, visibleRate, backlogSlope, sustained: problems.length === 0, reason: problems.length === 0 ? 'sustained' : problems.join('; ') };
}

/**
 * Seconds from `from` until `values` (sampled at `ts`) stays at or below `threshold` for `hold`
 * consecutive samples, measured to the first of them; null if that never happens.
 */
export function timeToSettle(ts: readonly number[], values: readonly number[], from: number, threshold: number, hold = 3): number | null {
  let run = 0;
  let start = Number.NaN;
  for (let i = 0; i < Math.min(ts.length, values.length); i++) {
    const t = ts[i] as number;
    if (t < from) continue;
    if ((values[i] as number) <= threshold) {
      if (run === 0) start = t;
      if (++run >= hold) return start - from;
    } else {
      run = 0;
    }
  }
  return null;
}

/**
 * Seconds from `from` to the first sample at or after it from which every later sample is at or
 * below `limit` (0 if that holds from the start); null if the last sample is still above it.
 */
export function timeToRecover(ts: readonly number[], values: readonly number[], from: number, limit: number): number | null {
  const n = Math.min(ts.length, values.length);
  const first = ts.findIndex((t, i) => i < n && t >= from);
  if (first < 0) return null;
  let recovered = -1;
  for (let i = n - 1; i >= first; i--) {
    if ((values[i] as number) > limit) break;
    recovered = i;
  }
  if (recovered < 0) return null;
  return recovered === first ? 0 : (ts[recovered] as number) - from;
}
