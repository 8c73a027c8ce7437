import { parseAggregateConfig, type WindowingConfig } from './config';
import {
  accumulatorFromJson,
  accumulatorToJson,
  accumulatorValues,
  compileMeasures,
  mergeAccumulators,
  type CompiledMeasure,
  type GroupValue,
} from './measures';
import { WindowingError, type WindowBounds, type WindowResult, type WindowState } from './types';

/**
 * Combines partial results of the same aggregate, window and group computed apart (one engine per
 * input partition, each created with `{ resultState: true }`). Merging is exact for every measure:
 * counts and sums add, min/max compare, distinct sets union (switching to the sketch past
 * `exactLimit`, which gives the same registers as one engine seeing every value), and the first and
 * last event times combine for `duration`.
 */
export interface PartialMerger {
  /** A new state holding both; throws WindowingError `invalid_snapshot` for an unknown aggregate or a state that does not fit it. */
  merge(aggregate: string, a: WindowState, b: WindowState): WindowState;
  /** The result a single engine would have emitted for this window and state; throws like merge. */
  result(aggregate: string, window: WindowBounds, state: WindowState): WindowResult;
}

/** Builds a merger for the aggregates of `config`; throws WindowingError `invalid_config` for a bad config. */
export function createPartialMerger(config: WindowingConfig): PartialMerger {
  const parsed = parseAggregateConfig(config);
  if (!parsed.ok) throw new WindowingError('invalid_config', parsed.problems);
  const byName = new Map<string, { measures: CompiledMeasure[]; groupBy: readonly string[] }>(
    parsed.config.aggregates.map((spec) => [spec.name, { measures: compileMeasures(spec.measures), groupBy: spec.groupBy }]),
  );

  function lookup(aggregate: string) {
    const compiled = byName.get(aggregate);
    if (compiled === undefined) throw new WindowingError('invalid_snapshot', [{ path: aggregate, message: 'aggregate not in the config' }]);
    return compiled;
  }

  function load(aggregate: string, measures: CompiledMeasure[], state: WindowState) {
    try {
      return accumulatorFromJson(measures, state);
    } catch (err) {
      throw new WindowingError('invalid_snapshot', [{ path: aggregate, message: (err as Error).message }]);
    }
  }

  return {
    merge(aggregate, a, b) {
      const { measures } = lookup(aggregate);
      const into = load(aggregate, measures, a);
      mergeAccumulators(measures, into, load(aggregate, measures, b));
      return accumulatorToJson(into);
    },
    result(aggregate, window, state) {
      const { measures, groupBy } = lookup(aggregate);
      const acc = load(aggregate, measures, state);
      const group: Record<string, GroupValue> = {};
      groupBy.forEach((path, i) => {
        group[path] = acc.group[i] ?? null;
      });
      const { measures: values, estimated } = accumulatorValues(measures, acc);
      return {
        aggregate,
        windowStartMs: window.startMs,
        windowEndMs: window.endMs,
        group,
        eventCount: acc.count,
        measures: values,
        estimated,
      };
    },
  };
}
