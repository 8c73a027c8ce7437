/**
 * Problems are data: every check in this library reports what is wrong as a
 * `Problem` with a code from a closed list, a path into the input and a message
 * for people. Codes are stable (clients and dashboards key on them); messages
 * are not.
 */

/** Every code a `Problem` can carry. Append only: removing or renaming one breaks clients. */
export const PROBLEM_CODES = [
  // batch level
  'not_an_array',
  'batch_too_large',
  // event shape
  'not_an_object',
  'missing_field',
  'unknown_field',
  'wrong_type',
  'empty_string',
  'string_too_long',
  'invalid_key',
  'too_deep',
  'too_many_keys',
  'array_too_long',
  // envelope fields
  'invalid_event_id',
  'invalid_event_type',
  'invalid_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'duplicate_event_id',
  // per-event-type schema
  'schema_violation',
  'unknown_event_type',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** One thing wrong with an input. */
export interface Problem {
  /** Stable, machine-readable reason from {@link PROBLEM_CODES}. */
  readonly code: ProblemCode;
  /** Where: a JSONPath-like location rooted at `$`, e.g. `$[3].properties.price`. See {@link formatPath}. */
  readonly path: string;
  /** Human-readable explanation; wording may change between releases. */
  readonly message: string;
}

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends one segment to a path: `.key` for identifier keys, `["odd key"]` otherwise, `[n]` for array indices. */
export function appendPath(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  return IDENTIFIER.test(segment) ? `${path}.${segment}` : `${path}[${JSON.stringify(segment)}]`;
}

/** Formats segments as a path rooted at `root` (default `$`), e.g. `[3, 'properties', 'price']` -> `$[3].properties.price`. */
export function formatPath(segments: readonly PathSegment[], root = '$'): string {
  let path = root;
  for (const segment of segments) path = appendPath(path, segment);
  return path;
}

/** Creates a problem; a tiny helper so call sites stay one line. */
export function problem(code: ProblemCode, path: string, message: string): Problem {
  return { code, path, message };
}
