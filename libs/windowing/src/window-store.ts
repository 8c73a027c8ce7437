import { createIndexedMinHeap } from './indexed-heap';
import {
  accumulatorFromJson,
  accumulatorToJson,
  addToAccumulator,
  createAccumulator,
  mergeAccumulators,
  type Accumulator,
  type AccumulatorJsonInput,
  type CompiledMeasure,
  type GroupValue,
} from './measures';
import type { WindowBounds, WindowSnapshotJson } from './types';
import { lastWindowStart } from './windows';

export interface ClosedWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly key: string;
  readonly acc: Accumulator;
}

/** Open windows of one aggregate. `watermarkMs` is always the engine's current watermark. */
export interface WindowStore {
  /** Adds an accepted event; returns the windows it missed because they were already final, else null. */
  add(timeMs: number, key: string, group: readonly GroupValue[], event: unknown, watermarkMs: number): WindowBounds[] | null;
  /** Removes every window final at `watermarkMs` (end + allowedLateness <= watermark) into `out`. */
  close(watermarkMs: number, out: ClosedWindow[]): void;
  openCount(): number;
  toJson(): WindowSnapshotJson[];
  /** Adds a window from a snapshot; `key` is the group key of `acc.group`. */
  restore(window: { startMs: number; acc: AccumulatorJsonInput }, key: string): void;
}

/**
 * Tumbling (slide = size) and hopping windows: Map<windowStart, Map<groupKey, Accumulator>>. The
 * number of distinct open starts is small (about (outOfOrderness + lateness + size) / slide), so the
 * close step scans starts only once the oldest one is due, and per-event work is O(size / slide).
 */
export function createFixedWindowStore(
  measures: readonly CompiledMeasure[],
  sizeMs: number,
  slideMs: number,
  latenessMs: number,
): WindowStore {
  const windows = new Map<number, Map<string, Accumulator>>();
  let minStart = Infinity;
  let open = 0;

  function accumulate(start: number, key: string, group: readonly GroupValue[], event: unknown, timeMs: number): void {
    let groups = windows.get(start);
    if (groups === undefined) {
      groups = new Map();
      windows.set(start, groups);
      if (start < minStart) minStart = start;
    }
    const acc = groups.get(key);
    if (acc === undefined) {
      groups.set(key, createAccumulator(measures, group, event, timeMs));
      open++;
    } else {
      addToAccumulator(measures, acc, event, timeMs);
    }
  }

  return {
    add(timeMs, key, group, event, watermarkMs) {
      let missed: WindowBounds[] | null = null;
      for (let start = lastWindowStart(timeMs, slideMs); start > timeMs - sizeMs; start -= slideMs) {
        const end = start + sizeMs;
        if (end + latenessMs <= watermarkMs) {
          (missed ??= []).unshift({ startMs: start, endMs: end });
        } else {
          accumulate(start, key, group, event, timeMs);
        }
      }
      return missed;
    },
    close(watermarkMs, out) {
      const threshold = watermarkMs - latenessMs;
      if (minStart + sizeMs > threshold) return;
      let nextMin = Infinity;
      for (const [start, groups] of windows) {
        if (start + sizeMs <= threshold) {
          for (const [key, acc] of groups) out.push({ startMs: start, endMs: start + sizeMs, key, acc });
          open -= groups.size;
          windows.delete(start);
        } else if (start < nextMin) {
          nextMin = start;
        }
      }
      minStart = nextMin;
    },
    openCount: () => open,
    toJson() {
      const result: WindowSnapshotJson[] = [];
      for (const [startMs, groups] of windows) {
        for (const acc of groups.values()) result.push({ startMs, acc: accumulatorToJson(acc) });
      }
      return result;
    },
    restore(window, key) {
      let groups = windows.get(window.startMs);
      if (groups === undefined) {
        groups = new Map();
        windows.set(window.startMs, groups);
        if (window.startMs < minStart) minStart = window.startMs;
      }
      if (groups.has(key)) throw new Error(`duplicate window ${window.startMs} for group ${key}`);
      groups.set(key, accumulatorFromJson(measures, window.acc));
      open++;
    },
  };
}

/**
 * Session windows per group key: a short list of non-overlapping sessions sorted by start (usually
 * one), bounds [first event, last event + gap). An indexed min-heap keyed by group holds a lower
 * bound of each group's earliest session end, so closing pops only due groups instead of scanning
 * every user. An event usually extends its session (a later end): the heap entry is left as it is
 * then and corrected when it reaches the top, so the heap is touched about once per session rather
 * than once per event; an earlier end (a new session before the others) lowers it at once.
 */
export function createSessionStore(measures: readonly CompiledMeasure[], gapMs: number, latenessMs: number): WindowStore {
  const sessions = new Map<string, Accumulator[]>();
  const dueAt = createIndexedMinHeap<string>();
  let open = 0;
  const endOf = (acc: Accumulator): number => acc.maxTs + gapMs;

  function reschedule(key: string, list: readonly Accumulator[]): void {
    const first = list[0];
    if (first === undefined) {
      sessions.delete(key);
      dueAt.delete(key);
    } else {
      dueAt.set(key, endOf(first));
    }
  }

  /** Keeps the heap entry of `key` at or below its earliest session end (see close). */
  function lowerBound(key: string, list: readonly Accumulator[]): void {
    const first = list[0];
    if (first === undefined) return;
    const end = endOf(first);
    const due = dueAt.priorityOf(key);
    if (due === undefined || end < due) dueAt.set(key, end);
  }

  return {
    add(timeMs, key, group, event, watermarkMs) {
      // Anything at or after watermark - lateness cannot touch a closed session (closed ones end at or
      // before it), so this one comparison replaces remembering closed sessions per user.
      if (timeMs < watermarkMs - latenessMs) return [{ startMs: timeMs, endMs: timeMs + gapMs }];
      const list = sessions.get(key);
      if (list === undefined) {
        sessions.set(key, [createAccumulator(measures, group, event, timeMs)]);
        dueAt.set(key, timeMs + gapMs);
        open++;
        return null;
      }
      const endMs = timeMs + gapMs;
      let target: Accumulator | null = null;
      let insertAt = list.length;
      for (let i = 0; i < list.length; ) {
        const s = list[i];
        if (s === undefined) break;
        if (s.minTs < endMs && timeMs < endOf(s)) {
          if (target === null) {
            target = s;
            i++;
          } else {
            // The event bridges two sessions: fold the later one into the earlier.
            mergeAccumulators(measures, target, s);
            list.splice(i, 1);
            open--;
          }
        } else {
          if (target === null && s.minTs >= endMs && insertAt === list.length) insertAt = i;
          i++;
        }
      }
      if (target === null) {
        list.splice(insertAt, 0, createAccumulator(measures, group, event, timeMs));
        open++;
      } else {
        addToAccumulator(measures, target, event, timeMs);
      }
      lowerBound(key, list);
      return null;
    },
    close(watermarkMs, out) {
      const threshold = watermarkMs - latenessMs;
      for (;;) {
        const key = dueAt.peekKey();
        if (key === undefined || dueAt.peekPriority() > threshold) return;
        const list = sessions.get(key) ?? [];
        for (let first = list[0]; first !== undefined && endOf(first) <= threshold; first = list[0]) {
          list.shift();
          out.push({ startMs: first.minTs, endMs: endOf(first), key, acc: first });
          open--;
        }
        // Also where the entry was only a lower bound and nothing was due yet: it becomes exact.
        reschedule(key, list);
      }
    },
    openCount: () => open,
    toJson() {
      const result: WindowSnapshotJson[] = [];
      for (const list of sessions.values()) {
        for (const acc of list) result.push({ startMs: acc.minTs, acc: accumulatorToJson(acc) });
      }
      return result;
    },
    restore(window, key) {
      const acc = accumulatorFromJson(measures, window.acc);
      if (window.startMs !== acc.minTs) throw new Error(`session start ${window.startMs} differs from its first event ${acc.minTs}`);
      const list = sessions.get(key) ?? [];
      const overlaps = list.some((s) => s.minTs < endOf(acc) && acc.minTs < endOf(s));
      if (overlaps) throw new Error(`overlapping sessions for group ${key}`);
      list.push(acc);
      list.sort((a, b) => a.minTs - b.minTs);
      sessions.set(key, list);
      reschedule(key, list);
      open++;
    },
  };
}
