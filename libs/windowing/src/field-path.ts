export type FieldGetter = (value: unknown) => unknown;

const hasOwn = Object.prototype.hasOwnProperty;

/** Compiles a dot path (`"properties.plan"`) into a getter; missing segments and non-objects yield undefined, never throws. */
export function compileFieldPath(path: string): FieldGetter {
  if (!path.includes('.')) {
    const key = path;
    return (value) => (typeof value === 'object' && value !== null && hasOwn.call(value, key) ? (value as Record<string, unknown>)[key] : undefined);
  }
  const parts = path.split('.');
  return (value) => {
    let current = value;
    for (const key of parts) {
      if (typeof current !== 'object' || current === null || !hasOwn.call(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };
}
