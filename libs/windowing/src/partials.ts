import { parseAggregateConfig, type WindowingConfig } from './config';
import {
  accumulatorFromJson,
  accumulatorToJson,
  accumulatorValues,
  compileMeasures,
  mergeAccumulators,
  type Accumulator,
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
  /**
   * A running sum starting at `state`, kept decoded: folding in a partial decodes only that partial,
   * where `merge` decodes and re-encodes the whole sum each time. Throws like merge.
   */
  open(aggregate: string, state: WindowState): PartialSum;
}

/** The running sum of one aggregate, window and group's partials. */
export interface PartialSum {
  /** Folds another partial in; throws WindowingError `invalid_snapshot` when it does not fit the aggregate. */
  add(state: WindowState): void;
  /** The sum as a state, equal to what `merge` over the same partials returns. */
  state(): WindowState;
  /** Equal to `result` of that state. */
  result(window: WindowBounds): WindowResult;
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

  function resultOf(aggregate: string, groupBy: readonly string[], measures: CompiledMeasure[], window: WindowBounds, acc: Accumulator): WindowResult {
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
      return resultOf(aggregate, groupBy, measures, window, load(aggregate, measures, state));
    },
    open(aggregate, state) {
      const { measures, groupBy } = lookup(aggregate);
      const acc = load(aggregate, measures, state);
      return {
        add: (partial) => mergeAccumulators(measures, acc, load(aggregate, measures, partial)),
        state: () => accumulatorToJson(acc),
        result: (window) => resultOf(aggregate, groupBy, measures, window, acc),
      };
    },
  };
}
