import fc from 'fast-check';
import { checkBackwardCompatibility, isBackwardCompatible } from './schema-compat';
import type { JsonSchema } from './properties-validator';

const v1 = {
  type: 'object',
  properties: {
    order_id: { type: 'string' },
    total: { type: 'number' },
    tags: { type: ['string', 'null'] },
    products: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, price: { type: 'number' } }, required: ['sku'] } },
    shipping: { type: 'object', properties: { city: { type: 'string' } } },
  },
  required: ['order_id'],
};

type Schema = typeof v1 & Record<string, unknown>;

function edit(change: (s: Schema) => void): JsonSchema {
  const copy = structuredClone(v1) as Schema;
  change(copy);
  return copy;
}

function kinds(next: JsonSchema, previous: JsonSchema = v1): string[] {
  return checkBackwardCompatibility(previous, next).map((i) => `${i.kind} ${i.path}`);
}

describe('checkBackwardCompatibility', () => {
  it.each<[string, JsonSchema]>([
    ['the same schema', v1],
    ['an added optional property', edit((s) => Object.assign(s.properties, { coupon: { type: 'string' } }))],
    ['an added optional nested property', edit((s) => Object.assign(s.properties.shipping.properties, { zip: { type: 'string' } }))],
    ['an added optional property in array items', edit((s) => Object.assign(s.properties.products.items.properties, { qty: { type: 'integer' } }))],
    ['a required property made optional', edit((s) => (s.required = []))],
    ['a reordered type union', edit((s) => (s.properties.tags.type = ['null', 'string']))],
    ['a new description', edit((s) => Object.assign(s.properties.total, { description: 'gross, in currency units' }))],
  ])('accepts %s', (_name, next) => {
    expect(checkBackwardCompatibility(v1, next)).toEqual([]);
    expect(isBackwardCompatible(v1, next)).toBe(true);
  });

  it.each<[string, JsonSchema, string[]]>([
    ['a removed property', edit((s) => delete (s.properties as Record<string, unknown>)['total']), ['property_removed properties.total']],
    ['a removed nested property', edit((s) => delete (s.properties.shipping.properties as Record<string, unknown>)['city']), ['property_removed properties.shipping.city']],
    ['a changed type', edit((s) => (s.properties.total.type = 'string')), ['type_changed properties.total']],
    ['a widened number type', edit((s) => (s.properties.total.type = 'integer')), ['type_changed properties.total']],
    ['a dropped null', edit((s) => (s.properties.tags.type = 'string' as unknown as string[])), ['type_changed properties.tags']],
    ['a changed type in array items', edit((s) => (s.properties.products.items.properties.price.type = 'string')), ['type_changed properties.products[*].price']],
    ['removed array items', edit((s) => delete (s.properties.products as Record<string, unknown>)['items']), ['type_changed properties.products[*]']],
    ['a changed $ref', edit((s) => Object.assign(s.properties.shipping, { $ref: '#/$defs/address' })), ['type_changed properties.shipping']],
    ['a new required property', edit((s) => { Object.assign(s.properties, { coupon: { type: 'string' } }); s.required.push('coupon'); }), ['required_added properties.coupon']],
    ['an optional property made required', edit((s) => s.required.push('total')), ['required_added properties.total']],
    ['a property that became `false`', edit((s) => Object.assign(s.properties, { total: false })), ['type_changed properties.total']],
    ['several changes', edit((s) => { delete (s.properties as Record<string, unknown>)['order_id']; s.properties.total.type = 'string'; }), ['property_removed properties.order_id', 'type_changed properties.total']],
  ])('reports %s', (_name, next, expected) => {
    expect(kinds(next)).toEqual(expected);
    expect(isBackwardCompatible(v1, next)).toBe(false);
  });

  it('requires object schemas at the root', () => {
    expect(kinds({ type: 'string' })).toEqual(['not_an_object_schema properties']);
    expect(kinds(v1, true)).toEqual(['not_an_object_schema properties']);
  });

  it('does not mistake inherited names for properties', () => {
    const previous = { type: 'object', properties: { constructor: { type: 'string' } } };
    expect(kinds({ type: 'object', properties: {} }, previous)).toEqual(['property_removed properties.constructor']);
  });
});

const leafArb = fc.constantFrom<JsonSchema>({ type: 'string' }, { type: 'number' }, { type: 'integer' }, { type: 'boolean' }, { type: ['string', 'null'] });
const keyArb = fc.stringMatching(/^[a-z][a-z_]{0,8}$/);
const objectSchemaArb: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: JsonSchema; obj: Record<string, unknown> }>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leafArb, tie('obj'), tie('obj').map((items) => ({ type: 'array', items }))),
  obj: fc
    .dictionary(keyArb, tie('node'), { maxKeys: 5 })
    .chain((properties) => fc.subarray(Object.keys(properties)).map((required) => ({ type: 'object', properties, required }))),
})).obj;

describe('compatibility properties', () => {
  it('every schema is compatible with itself', () => {
    fc.assert(fc.property(objectSchemaArb, (schema) => expect(checkBackwardCompatibility(schema, structuredClone(schema))).toEqual([])));
  });

  it('adding an optional property is compatible, making it required is not', () => {
    fc.assert(
      fc.property(objectSchemaArb, keyArb, leafArb, (schema, key, leaf) => {
        const properties = schema['properties'] as Record<string, unknown>;
        fc.pre(!Object.hasOwn(properties, key));
        const next = { ...schema, properties: { ...properties, [key]: leaf } };
        expect(checkBackwardCompatibility(schema, next)).toEqual([]);
        const required = [...(schema['required'] as string[]), key];
        expect(checkBackwardCompatibility(schema, { ...next, required }).map((i) => i.kind)).toEqual(['required_added']);
      }),
    );
  });

  it('removing any property is reported at its path', () => {
    fc.assert(
      fc.property(objectSchemaArb, fc.nat(), (schema, pick) => {
        const keys = Object.keys(schema['properties'] as object);
        fc.pre(keys.length > 0);
        const key = keys[pick % keys.length] as string;
        const next = structuredClone(schema);
        delete (next['properties'] as Record<string, unknown>)[key];
        expect(checkBackwardCompatibility(schema, next)).toContainEqual(expect.objectContaining({ kind: 'property_removed', path: `properties.${key}` }));
      }),
    );
  });
});
