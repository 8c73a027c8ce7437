import {
  InvalidSchemaError,
  createPropertiesValidator,
  createSchemaPropertiesCheck,
  detectSchemaDraft,
  type JsonSchema,
  type SchemaRef,
} from './properties-validator';

const orderCompleted: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://schemas.example.com/order_completed.json',
  title: 'Order Completed',
  type: 'object',
  properties: {
    order_id: { type: 'string', minLength: 1 },
    total: { type: 'number', minimum: 0 },
    currency: { enum: ['USD', 'EUR', 'GBP'] },
    email: { type: 'string', format: 'email' },
    products: {
      type: 'array',
      items: {
        type: 'object',
        properties: { sku: { type: 'string' }, price: { type: 'number' }, quantity: { type: 'integer', minimum: 1 } },
        required: ['sku'],
      },
    },
    by_hour: { type: 'object', additionalProperties: { type: 'integer' } },
  },
  required: ['order_id', 'total'],
  additionalProperties: false,
};

const ref = (id: number, schema: JsonSchema = orderCompleted): SchemaRef => ({ id, schema });

function paths(problems: readonly { code: string; path: string }[]): string[] {
  return problems.map((p) => `${p.code} ${p.path}`);
}

describe('createPropertiesValidator', () => {
  it('accepts properties that fit the schema', () => {
    const validator = createPropertiesValidator();
    const properties = { order_id: 'o-1', total: 27.5, currency: 'USD', email: 'ada@example.com', products: [{ sku: 'A', price: 1, quantity: 2 }] };
    expect(validator.validate(ref(1), properties)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['a wrong type', { order_id: 'o', total: '27.5' }, ['schema_violation $.properties.total']],
    ['a missing required property', { total: 1 }, ['schema_violation $.properties.order_id']],
    ['an extra property', { order_id: 'o', total: 1, coupon: 'X' }, ['schema_violation $.properties.coupon']],
    ['an enum miss', { order_id: 'o', total: 1, currency: 'JPY' }, ['schema_violation $.properties.currency']],
    ['a bad format (ajv-formats)', { order_id: 'o', total: 1, email: 'not-an-email' }, ['schema_violation $.properties.email']],
    ['a bad array item', { order_id: 'o', total: 1, products: [{ sku: 'A' }, { sku: 'B', quantity: 0 }] }, ['schema_violation $.properties.products[1].quantity']],
    ['a missing property in an array item', { order_id: 'o', total: 1, products: [{ price: 1 }] }, ['schema_violation $.properties.products[0].sku']],
    ['a numeric object key', { order_id: 'o', total: 1, by_hour: { '13': 'x' } }, ['schema_violation $.properties.by_hour["13"]']],
    ['a key with pointer escapes', { order_id: 'o', total: 1, by_hour: { 'a/b~c': 1.5 } }, ['schema_violation $.properties.by_hour["a/b~c"]']],
  ])('reports %s', (_name, properties, expected) => {
    expect(paths(createPropertiesValidator().validate(ref(1), properties))).toEqual(expected);
  });

  it('reports every problem up to maxProblems, with messages', () => {
    const validator = createPropertiesValidator({ maxProblems: 2 });
    const problems = validator.validate(ref(1), { total: 'x', currency: 'JPY', coupon: 1 });
    expect(problems).toHaveLength(2);
    const all = createPropertiesValidator().validate(ref(1), { order_id: 'o', total: 1, currency: 'JPY' });
    expect(all[0]?.message).toBe('must be equal to one of the allowed values: "USD", "EUR", "GBP"');
  });

  it('roots paths where the caller says', () => {
    expect(paths(createPropertiesValidator().validate(ref(1), { total: 1 }, '$[4].properties'))).toEqual(['schema_violation $[4].properties.order_id']);
  });

  it('compiles each schema id once and keeps the first schema seen under it', () => {
    const validator = createPropertiesValidator();
    validator.compile(ref(7));
    // Registry ids are immutable, so a second schema under the same id is not looked at.
    expect(validator.validate({ id: 7, schema: { type: 'string' } }, { order_id: 'o', total: 1 })).toEqual([]);
    expect(validator.has(7)).toBe(true);
    expect(validator.has('7')).toBe(true);
    expect(validator.size).toBe(1);
  });

  it('compiles two versions of a subject that share $id (regression: ajv refuses a duplicate id by default)', () => {
    const validator = createPropertiesValidator();
    const v2 = { ...(orderCompleted as object), properties: { ...(orderCompleted as { properties: object }).properties, coupon: { type: 'string' } } };
    validator.compile(ref(1));
    expect(() => validator.compile(ref(2, v2))).not.toThrow();
    expect(validator.validate(ref(2, v2), { order_id: 'o', total: 1, coupon: 'X' })).toEqual([]);
    expect(validator.validate(ref(1), { order_id: 'o', total: 1, coupon: 'X' })).toHaveLength(1);
  });

  it('drops the least recently compiled schema beyond maxCachedSchemas', () => {
    const validator = createPropertiesValidator({ maxCachedSchemas: 2 });
    for (const id of [1, 2, 3]) validator.compile(ref(id, { type: 'object' }));
    expect([validator.has(1), validator.has(2), validator.has(3)]).toEqual([false, true, true]);
    validator.clear();
    expect(validator.size).toBe(0);
  });

  it.each<[string, JsonSchema, unknown, number]>([
    ['draft-07', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'integer' } } }, { a: 1.5 }, 1],
    ['draft-06', { $schema: 'http://json-schema.org/draft-06/schema#', type: 'object', properties: { a: { type: 'integer' } } }, { a: 1.5 }, 1],
    ['2019-09', { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', properties: { a: { type: 'integer' } } }, { a: 1.5 }, 1],
    ['2020-12 prefixItems', { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { p: { prefixItems: [{ type: 'string' }] } } }, { p: [1] }, 1],
    ['no $schema (draft-07 default)', { type: 'object', properties: { a: { type: 'integer' } } }, { a: 1 }, 0],
    ['vendor keywords', { type: 'object', 'x-pii': true, properties: { a: { type: 'string', 'connect.index': 1 } } }, { a: 'x' }, 0],
    ['a boolean schema', true, { anything: 1 }, 0],
  ])('handles %s', (_name, schema, properties, problemCount) => {
    expect(createPropertiesValidator().validate({ id: 1, schema }, properties)).toHaveLength(problemCount);
  });

  it.each<[string, JsonSchema]>([
    ['draft-04', { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }],
    ['a bad keyword value', { type: 'object', properties: { a: { type: 'nope' } } }],
    ['an unresolvable $ref', { type: 'object', properties: { a: { $ref: 'https://elsewhere.example.com/a.json' } } }],
  ])('throws InvalidSchemaError for %s', (_name, schema) => {
    const validator = createPropertiesValidator();
    let error: unknown;
    try {
      validator.validate({ id: 99, schema }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidSchemaError);
    expect(error).toMatchObject({ code: 'invalid_schema', schemaId: 99 });
    expect(validator.has(99)).toBe(false);
  });
});

describe('detectSchemaDraft', () => {
  it.each<[JsonSchema, string | undefined]>([
    [{ $schema: 'https://json-schema.org/draft/2020-12/schema' }, '2020-12'],
    [{ $schema: 'http://json-schema.org/draft-07/schema#' }, 'draft-07'],
    [{ $schema: 'http://json-schema.org/draft-04/schema#' }, undefined],
    [{}, 'draft-07'],
  ])('%j -> %s', (schema, draft) => {
    expect(detectSchemaDraft(schema)).toBe(draft);
  });
});

describe('createSchemaPropertiesCheck', () => {
  const validator = createPropertiesValidator();
  const lookup = (type: string) => (type === 'order_completed' ? ref(1) : undefined);

  it('validates known types at the event path', () => {
    const check = createSchemaPropertiesCheck({ validator, lookup });
    expect(paths(check('order_completed', { total: 1 }, '$[2]'))).toEqual(['schema_violation $[2].properties.order_id']);
  });

  it('rejects unknown types by default and can accept them', () => {
    expect(paths(createSchemaPropertiesCheck({ validator, lookup })('page', {}, '$[0]'))).toEqual(['unknown_event_type $[0].event_type']);
    expect(createSchemaPropertiesCheck({ validator, lookup, unknownEventTypes: 'accept' })('page', {}, '$[0]')).toEqual([]);
  });
});
