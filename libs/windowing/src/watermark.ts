export type PartitionId = string | number;

export interface PartitionClockJson {
  partition: PartitionId;
  /** Highest accepted event time seen on the partition (epoch ms). */
  maxEventTimeMs: number;
  /** Processing time of the partition's latest accepted event (epoch ms). */
  lastEventAtMs: number;
}

export interface WatermarkSettings {
  readonly maxOutOfOrderness: number;
  readonly idleTimeout: number;
}

export interface WatermarkTracker {
  /** Records an accepted event; returns the (possibly advanced) watermark. */
  observe(partition: PartitionId, eventTimeMs: number, nowMs: number): number;
  /** Re-evaluates idleness at processing time `nowMs`; returns the (possibly advanced) watermark. */
  advance(nowMs: number): number;
  /** Moves the watermark to +Infinity (end of input). */
  finish(): void;
  current(): number;
  partitions(): PartitionClockJson[];
}

interface PartitionClock {
  maxEventTimeMs: number;
  lastEventAtMs: number;
}

/**
 * Per-partition bounded-out-of-orderness watermark: min over active partitions of (max event time -
 * maxOutOfOrderness). A partition is idle once `nowMs - lastEventAtMs >= idleTimeout` and stops holding
 * the watermark back; when every partition is idle the max over all partitions is used instead. The
 * watermark never decreases: a partition that wakes up behind it delivers late events.
 */
export function createWatermarkTracker(
  settings: WatermarkSettings,
  restored?: { watermarkMs: number; partitions: readonly PartitionClockJson[] },
): WatermarkTracker {
  const clocks = new Map<PartitionId, PartitionClock>();
  let watermark = restored?.watermarkMs ?? -Infinity;
  for (const p of restored?.partitions ?? []) {
    clocks.set(p.partition, { maxEventTimeMs: p.maxEventTimeMs, lastEventAtMs: p.lastEventAtMs });
  }

  function recompute(nowMs: number): number {
    let minActive = Infinity;
    let maxAll = -Infinity;
    for (const clock of clocks.values()) {
      if (clock.maxEventTimeMs > maxAll) maxAll = clock.maxEventTimeMs;
      if (nowMs - clock.lastEventAtMs < settings.idleTimeout && clock.maxEventTimeMs < minActive) {
        minActive = clock.maxEventTimeMs;
      }
    }
    const basis = minActive !== Infinity ? minActive : maxAll;
    const candidate = basis - settings.maxOutOfOrderness;
    if (candidate > watermark) watermark = candidate;
    return watermark;
  }

  return {
    observe(partition, eventTimeMs, nowMs) {
      const clock = clocks.get(partition);
      if (clock === undefined) {
        clocks.set(partition, { maxEventTimeMs: eventTimeMs, lastEventAtMs: nowMs });
      } else {
        if (eventTimeMs > clock.maxEventTimeMs) clock.maxEventTimeMs = eventTimeMs;
        if (nowMs > clock.lastEventAtMs) clock.lastEventAtMs = nowMs;
      }
      return recompute(nowMs);
    },
    advance: recompute,
    finish() {
      watermark = Infinity;
    },
    current: () => watermark,
    partitions: () => [...clocks].map(([partition, c]) => ({ partition, maxEventTimeMs: c.maxEventTimeMs, lastEventAtMs: c.lastEventAtMs })),
  };
}
