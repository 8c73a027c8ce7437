/** A value that survives `JSON.stringify` -> `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * A JSON object. Values may be `undefined` so typed optional members fit (see `EventContext`);
 * `JSON.stringify` drops such keys, exactly as an absent key.
 */
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** True for `{}`-style objects (prototype `Object.prototype` or `null`); false for arrays, Dates, Maps, class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Short type name for messages: `array`, `null`, `object`, `string`, ... */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && !isPlainObject(value)) return 'non-plain object';
  return typeof value;
}
