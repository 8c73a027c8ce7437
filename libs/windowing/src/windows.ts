import type { WindowSpec } from './config';
import type { WindowBounds } from './types';

/** Start of the latest epoch-aligned window of step `slideMs` containing `timeMs`. */
export function lastWindowStart(timeMs: number, slideMs: number): number {
  return Math.floor(timeMs / slideMs) * slideMs;
}

/**
 * Windows an event at `timeMs` belongs to, oldest first: one for tumbling, ceil(size / slide) for
 * hopping (epoch aligned, [start, end)), and the event's own [t, t + gap) for sessions before merging.
 */
export function assignWindows(window: WindowSpec, timeMs: number): WindowBounds[] {
  if (window.type === 'session') return [{ startMs: timeMs, endMs: timeMs + window.gap }];
  const slide = window.type === 'hopping' ? window.slide : window.size;
  const result: WindowBounds[] = [];
  for (let start = lastWindowStart(timeMs, slide); start > timeMs - window.size; start -= slide) {
    result.push({ startMs: start, endMs: start + window.size });
  }
  return result.reverse();
}
