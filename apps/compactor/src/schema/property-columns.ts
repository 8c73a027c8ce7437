import { columnName, type ColumnKind } from '../tables/columns';

/** Prefix of the columns that hold flattened event properties. */
export const PROPERTY_COLUMN_PREFIX = 'prop_';

export interface PropertyColumn {
  /** Property name in the event. */
  property: string;
  /** Lake column (`prop_<name>`, sanitised). */
  column: string;
  kind: ColumnKind;
}

function kindOfType(type: unknown): ColumnKind {
  const types = Array.isArray(type) ? type.filter((t) => t !== 'null') : [type];
  if (types.length !== 1) return 'json';
  switch (types[0]) {
    case 'string':
      return 'string';
    case 'integer':
      return 'long';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

function kindOfSchema(schema: unknown): ColumnKind {
  if (typeof schema !== 'object' || schema === null) return 'json';
  const s = schema as Record<string, unknown>;
  if (s['type'] !== undefined) return kindOfType(s['type']);
  const values = Array.isArray(s['enum']) ? s['enum'] : 'const' in s ? [s['const']] : undefined;
  if (values && values.length > 0 && values.every((v) => typeof v === 'string')) return 'string';
  return 'json';
}

/**
 * The typed columns of an event type's properties JSON Schema: each top-level property becomes
 * `prop_<name>`: string, integer (bigint), number (double) and boolean keep their type; objects,
 * arrays, unions and untyped properties become JSON text. Fails (with reasons) when two
 * properties fold to the same column name.
 */
export function propertyColumns(schema: unknown): { columns: PropertyColumn[]; problems: string[] } {
  const problems: string[] = [];
  const columns: PropertyColumn[] = [];
  if (typeof schema !== 'object' || schema === null) return { columns, problems };
  const props = (schema as Record<string, unknown>)['properties'];
  if (typeof props !== 'object' || props === null) return { columns, problems };
  const seen = new Map<string, string>();
  for (const [property, sub] of Object.entries(props as Record<string, unknown>)) {
    const column = columnName(PROPERTY_COLUMN_PREFIX, property);
    const other = seen.get(column);
    if (other !== undefined) {
      problems.push(`properties ${JSON.stringify(other)} and ${JSON.stringify(property)} both map to column ${column}`);
      continue;
    }
    seen.set(column, property);
    columns.push({ property, column, kind: kindOfSchema(sub) });
  }
  return { columns, problems };
}
