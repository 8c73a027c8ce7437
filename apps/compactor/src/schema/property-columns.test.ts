import { propertyColumns } from './property-columns';

describe('properties JSON Schema to lake columns', () => {
  it('maps each top-level property to a typed prop_ column', () => {
    const { columns, problems } = propertyColumns({
      type: 'object',
      properties: {
        url: { type: 'string' },
        count: { type: 'integer' },
        price: { type: 'number' },
        ok: { type: 'boolean' },
        maybe: { type: ['string', 'null'] },
        platform: { enum: ['ios', 'android'] },
        items: { type: 'array', items: { type: 'object' } },
        meta: { type: 'object' },
        either: { type: ['string', 'integer'] },
        anything: {},
        'Weird-Name': { type: 'string' },
      },
    });
    expect(problems).toEqual([]);
    expect(columns.map((c) => [c.property, c.column, c.kind])).toEqual([
      ['url', 'prop_url', 'string'],
      ['count', 'prop_count', 'long'],
      ['price', 'prop_price', 'double'],
      ['ok', 'prop_ok', 'boolean'],
      ['maybe', 'prop_maybe', 'string'],
      ['platform', 'prop_platform', 'string'],
      ['items', 'prop_items', 'json'],
      ['meta', 'prop_meta', 'json'],
      ['either', 'prop_either', 'json'],
      ['anything', 'prop_anything', 'json'],
      ['Weird-Name', 'prop_weird_name', 'string'],
    ]);
  });

  it('reports properties that fold to the same column', () => {
    const { problems } = propertyColumns({ properties: { userId: { type: 'string' }, userid: { type: 'string' } } });
    expect(problems).toEqual(['properties "userId" and "userid" both map to column prop_userid']);
  });

  it.each([[true], [null], [{ type: 'object' }]])('has no columns for %j', (schema) => expect(propertyColumns(schema)).toEqual({ columns: [], problems: [] }));
});
