/**
 * The compatibility rule the lake needs between two versions of an event type's
 * properties schema: a new version may only add optional properties. Then every
 * old event still fits, and the lake only ever adds columns (Iceberg schema
 * evolution), never rewrites or retypes one.
 *
 * Checked: `properties` (recursively, also under array `items`), `required`,
 * `type` and `$ref` (compared as text, not resolved). Not checked: `enum`, `const`,
 * bounds, `format`, `additionalProperties`, compositions (`anyOf`, `oneOf`, `allOf`).
 */
import { appendPath } from './problems';
import type { JsonSchema } from './properties-validator';

export const INCOMPATIBILITY_KINDS = ['property_removed', 'type_changed', 'required_added', 'not_an_object_schema'] as const;
export type IncompatibilityKind = (typeof INCOMPATIBILITY_KINDS)[number];

export interface SchemaIncompatibility {
  kind: IncompatibilityKind;
  /** The property in event terms, rooted at `properties`: `properties.price`, `properties.items[*].sku`. */
  path: string;
  message: string;
}

type SchemaObject = Record<string, unknown>;

function asObject(schema: unknown): SchemaObject | undefined {
  if (schema === true) return {};
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as SchemaObject) : undefined;
}

/** `type` as a canonical, order-free string; `undefined` when the schema does not constrain it. */
function typeOf(schema: SchemaObject): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return [...type].map(String).sort().join('|');
  return undefined;
}

function describe(type: string | undefined): string {
  return type === undefined ? 'any' : type;
}

function propertiesOf(schema: SchemaObject): Record<string, unknown> {
  return asObject(schema['properties']) ?? {};
}

function requiredOf(schema: SchemaObject): Set<string> {
  const required = schema['required'];
  return new Set(Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : []);
}

function compareNode(previous: unknown, next: unknown, path: string, out: SchemaIncompatibility[]): void {
  if (previous === undefined && next === undefined) return;
  // `false` accepts nothing, `true` and `{}` accept anything: a switch between them changes what fits.
  if (previous === undefined || next === undefined || (previous === false) !== (next === false)) {
    out.push({ kind: 'type_changed', path, message: `schema changed from ${JSON.stringify(previous ?? null)} to ${JSON.stringify(next ?? null)}` });
    return;
  }
  const prev = asObject(previous);
  const nxt = asObject(next);
  if (prev === undefined || nxt === undefined) return;

  const prevType = typeOf(prev);
  const nextType = typeOf(nxt);
  if (prevType !== nextType) {
    out.push({ kind: 'type_changed', path, message: `type changed from ${describe(prevType)} to ${describe(nextType)}` });
    return;
  }
  if (prev['$ref'] !== nxt['$ref']) {
    out.push({ kind: 'type_changed', path, message: `$ref changed from ${JSON.stringify(prev['$ref'])} to ${JSON.stringify(nxt['$ref'])}` });
    return;
  }
  compareObject(prev, nxt, path, out);
  if (prev['items'] !== undefined || nxt['items'] !== undefined) compareNode(prev['items'], nxt['items'], `${path}[*]`, out);
}

function compareObject(prev: SchemaObject, nxt: SchemaObject, path: string, out: SchemaIncompatibility[]): void {
  const prevProps = propertiesOf(prev);
  const nextProps = propertiesOf(nxt);
  const prevRequired = requiredOf(prev);
  const nextRequired = requiredOf(nxt);
  for (const key of Object.keys(prevProps)) {
    const at = appendPath(path, key);
    if (!Object.hasOwn(nextProps, key)) {
      out.push({ kind: 'property_removed', path: at, message: `property ${JSON.stringify(key)} was removed` });
      continue;
    }
    compareNode(prevProps[key], nextProps[key], at, out);
  }
  for (const key of nextRequired) {
    if (prevRequired.has(key)) continue;
    const added = !Object.hasOwn(prevProps, key);
    out.push({
      kind: 'required_added',
      path: appendPath(path, key),
      message: added ? `new property ${JSON.stringify(key)} is required; new properties must be optional` : `property ${JSON.stringify(key)} became required`,
    });
  }
}

/**
 * Lists why `next` is not a backward-compatible successor of `previous` (empty when it is):
 * removed properties, changed types, newly required properties. Both must be object schemas.
 */
export function checkBackwardCompatibility(previous: JsonSchema, next: JsonSchema): SchemaIncompatibility[] {
  const out: SchemaIncompatibility[] = [];
  for (const [label, schema] of [
    ['previous', previous],
    ['next', next],
  ] as const) {
    const obj = asObject(schema);
    const type = obj === undefined ? undefined : typeOf(obj);
    if (obj === undefined || type !== 'object') {
      out.push({ kind: 'not_an_object_schema', path: 'properties', message: `${label} schema must have "type": "object" at the root` });
    }
  }
  if (out.length > 0) return out;
  compareObject(asObject(previous) ?? {}, asObject(next) ?? {}, 'properties', out);
  return out;
}

/** True when `next` only adds optional properties to `previous` (see {@link checkBackwardCompatibility}). */
export function isBackwardCompatible(previous: JsonSchema, next: JsonSchema): boolean {
  return checkBackwardCompatibility(previous, next).length === 0;
}
