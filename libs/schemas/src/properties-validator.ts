/**
 * Checks an event's `properties` against its event type's JSON Schema, as stored in
 * a Confluent-compatible registry (Apicurio's ccompat API). Schemas are compiled by
 * ajv once per registry schema id and cached; errors become `schema_violation`
 * problems with paths in the envelope's path format.
 */
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import type AjvCore from 'ajv/dist/core';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import draft06MetaSchema from 'ajv/dist/refs/json-schema-draft-06.json';
import type { PropertiesCheck } from './envelope';
import { appendPath, problem, type Problem } from './problems';

/** A registry schema id (Confluent ids are integers; a string works for local or test schemas). */
export type SchemaId = number | string;

/** A JSON Schema document (object or boolean schema). */
export type JsonSchema = Record<string, unknown> | boolean;

/** A schema with the registry id it was fetched under. The id is the cache key: one id, one immutable schema. */
export interface SchemaRef {
  id: SchemaId;
  schema: JsonSchema;
}

export type JsonSchemaDraft = 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

export interface PropertiesValidatorOptions {
  /** Draft for schemas without `$schema`. Default `draft-07` (what Confluent's JSON Schema provider assumes). */
  defaultDraft?: JsonSchemaDraft;
  /** Compiled schemas kept; the least recently compiled is dropped beyond this. Default 1000. */
  maxCachedSchemas?: number;
  /** Problems returned per validation. Default 20. */
  maxProblems?: number;
}

export interface PropertiesValidator {
  /** Validates `properties` against `ref` (compiling it on first use); paths are rooted at `path` (default `$.properties`). Throws InvalidSchemaError when the schema does not compile. */
  validate(ref: SchemaRef, properties: unknown, path?: string): Problem[];
  /** Compiles and caches `ref` ahead of use (e.g. when the registry cache is filled); throws InvalidSchemaError. */
  compile(ref: SchemaRef): void;
  /** True when a compiled schema for `id` is cached. */
  has(id: SchemaId): boolean;
  readonly size: number;
  clear(): void;
}

/** A registry schema that ajv cannot compile (bad keyword value, unresolvable `$ref`, unsupported draft). A server fault, not the client's. */
export class InvalidSchemaError extends Error {
  readonly code = 'invalid_schema';
  constructor(
    readonly schemaId: SchemaId,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`schema ${String(schemaId)}: ${message}`, options);
    this.name = 'InvalidSchemaError';
  }
}

const DRAFT_BY_META: readonly (readonly [string, JsonSchemaDraft])[] = [
  ['json-schema.org/draft/2020-12/schema', '2020-12'],
  ['json-schema.org/draft/2019-09/schema', '2019-09'],
  ['json-schema.org/draft-07/schema', 'draft-07'],
  ['json-schema.org/draft-06/schema', 'draft-06'],
];

/** The draft a schema declares through `$schema`, `fallback` when it declares none; `undefined` for an unsupported one (e.g. draft-04). */
export function detectSchemaDraft(schema: JsonSchema, fallback: JsonSchemaDraft = 'draft-07'): JsonSchemaDraft | undefined {
  if (typeof schema === 'boolean') return fallback;
  const declared = schema['$schema'];
  if (declared === undefined) return fallback;
  if (typeof declared !== 'string') return undefined;
  for (const [meta, draft] of DRAFT_BY_META) if (declared.includes(meta)) return draft;
  return undefined;
}

function createAjv(draft: JsonSchemaDraft): AjvCore {
  const options = {
    allErrors: true,
    // Registry schemas carry vendor keywords and annotations; strict mode would refuse them.
    strict: false,
    // Versions of one subject usually share `$id`; registering by id would make the second compile fail.
    addUsedSchema: false,
    logger: false as const,
  };
  let ajv: AjvCore;
  if (draft === '2020-12') ajv = new Ajv2020(options);
  else if (draft === '2019-09') ajv = new Ajv2019(options);
  else {
    ajv = new Ajv(options);
    if (draft === 'draft-06') ajv.addMetaSchema(draft06MetaSchema);
  }
  addFormats(ajv);
  return ajv;
}

/** Turns ajv's JSON Pointer into our path, looking at the data so numeric keys of objects stay keys. */
function pointerToPath(base: string, pointer: string, data: unknown): string {
  if (pointer === '') return base;
  let path = base;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token)) {
      path = appendPath(path, Number(token));
      node = node[Number(token)];
    } else {
      path = appendPath(path, token);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[token] : undefined;
    }
  }
  return path;
}

/** The property an error is about when ajv reports it on the parent object. */
function childOf(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  for (const key of ['missingProperty', 'additionalProperty', 'unevaluatedProperty', 'propertyName']) {
    const value = params[key];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function describeError(error: ErrorObject): string {
  const base = error.message ?? `fails "${error.keyword}"`;
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    const shown = allowed.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
    return `${base}: ${shown}${allowed.length > 10 ? ', ...' : ''}`;
  }
  if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') return 'is not allowed by the schema';
  return base;
}

/** Maps ajv errors to `schema_violation` problems rooted at `base`, at most `max` of them. */
export function ajvErrorsToProblems(errors: readonly ErrorObject[] | null | undefined, base: string, data: unknown, max = 20): Problem[] {
  const problems: Problem[] = [];
  for (const error of errors ?? []) {
    if (problems.length >= max) break;
    let path = pointerToPath(base, error.instancePath, data);
    const child = childOf(error);
    if (child !== undefined && error.keyword !== 'propertyNames') path = appendPath(path, child);
    problems.push(problem('schema_violation', path, describeError(error)));
  }
  return problems;
}

/** Creates a properties validator that compiles each registry schema once (ajv + ajv-formats) and caches it by schema id. */
export function createPropertiesValidator(options: PropertiesValidatorOptions = {}): PropertiesValidator {
  const defaultDraft = options.defaultDraft ?? 'draft-07';
  const maxCached = options.maxCachedSchemas ?? 1000;
  const maxProblems = options.maxProblems ?? 20;
  const engines = new Map<JsonSchemaDraft, AjvCore>();
  const compiled = new Map<string, { fn: ValidateFunction; ajv: AjvCore; schema: JsonSchema }>();

  function engine(draft: JsonSchemaDraft): AjvCore {
    let ajv = engines.get(draft);
    if (ajv === undefined) {
      ajv = createAjv(draft);
      engines.set(draft, ajv);
    }
    return ajv;
  }

  function get(ref: SchemaRef): ValidateFunction {
    const key = String(ref.id);
    const hit = compiled.get(key);
    if (hit !== undefined) return hit.fn;
    const draft = detectSchemaDraft(ref.schema, defaultDraft);
    if (draft === undefined) throw new InvalidSchemaError(ref.id, 'unsupported $schema (use draft-06, draft-07, 2019-09 or 2020-12)');
    const ajv = engine(draft);
    let fn: ValidateFunction;
    try {
      fn = ajv.compile(ref.schema);
    } catch (cause) {
      throw new InvalidSchemaError(ref.id, cause instanceof Error ? cause.message : String(cause), { cause });
    }
    compiled.set(key, { fn, ajv, schema: ref.schema });
    if (compiled.size > maxCached) {
      const oldest = compiled.keys().next();
      if (oldest.done !== true) evict(oldest.value);
    }
    return fn;
  }

  function evict(key: string): void {
    const entry = compiled.get(key);
    if (entry === undefined) return;
    compiled.delete(key);
    // ajv keeps its own cache keyed by the schema object; drop it too or eviction frees nothing.
    if (typeof entry.schema === 'object') entry.ajv.removeSchema(entry.schema);
  }

  return {
    validate(ref, properties, path = '$.properties') {
      const fn = get(ref);
      if (fn(properties)) return [];
      return ajvErrorsToProblems(fn.errors, path, properties, maxProblems);
    },
    compile(ref) {
      get(ref);
    },
    has(id) {
      return compiled.has(String(id));
    },
    get size() {
      return compiled.size;
    },
    clear() {
      for (const key of [...compiled.keys()]) evict(key);
    },
  };
}

export interface SchemaPropertiesCheckOptions {
  validator: PropertiesValidator;
  /**
   * The schema to apply to an event type, from a cache the caller keeps warm
   * (registry lookups are async; the envelope validator is not). `undefined` when the type has none.
   */
  lookup: (eventType: string) => SchemaRef | undefined;
  /** Event types without a schema: `reject` (default, `unknown_event_type`) or `accept` (only the envelope limits apply). */
  unknownEventTypes?: 'reject' | 'accept';
}

/** Builds the envelope validator's `checkProperties` hook from a properties validator and a schema lookup; may throw InvalidSchemaError (a server fault). */
export function createSchemaPropertiesCheck(options: SchemaPropertiesCheckOptions): PropertiesCheck {
  const rejectUnknown = (options.unknownEventTypes ?? 'reject') === 'reject';
  return (eventType, properties, eventPath) => {
    const ref = options.lookup(eventType);
    if (ref === undefined) {
      if (!rejectUnknown) return [];
      return [problem('unknown_event_type', appendPath(eventPath, 'event_type'), `no schema is registered for event type ${JSON.stringify(eventType)}`)];
    }
    return options.validator.validate(ref, properties, appendPath(eventPath, 'properties'));
  };
}
