import { parseCurrentSchema, parseS3Location } from './iceberg-metadata';

describe('parseCurrentSchema', () => {
  it('picks the current schema among several versions', () => {
    const fields = parseCurrentSchema({
      'format-version': 2,
      'current-schema-id': 1,
      schemas: [
        { 'schema-id': 0, fields: [{ id: 1, name: 'event_id', type: 'string', required: false }] },
        {
          'schema-id': 1,
          fields: [
            { id: 1, name: 'event_id', type: 'string', required: false },
            { id: 2, name: 'occurred_at', type: 'timestamptz', required: false },
          ],
        },
      ],
    });
    expect(fields).toEqual([
      { id: 1, name: 'event_id', type: 'string', required: false },
      { id: 2, name: 'occurred_at', type: 'timestamptz', required: false },
    ]);
  });

  it('rejects column types the lake does not write', () => {
    expect(() =>
      parseCurrentSchema({ 'format-version': 2, 'current-schema-id': 0, schemas: [{ 'schema-id': 0, fields: [{ id: 1, name: 'm', type: { type: 'map' }, required: false }] }] }),
    ).toThrow(/column m has unsupported type/);
  });
});

describe('parseS3Location', () => {
  it.each([
    ['s3://lake/warehouse/t/metadata/00001.metadata.json', 'lake', 'warehouse/t/metadata/00001.metadata.json'],
    ['s3a://b/k', 'b', 'k'],
  ])('%s', (location, bucket, key) => expect(parseS3Location(location)).toEqual({ bucket, key }));

  it('rejects other schemes', () => expect(() => parseS3Location('hdfs://x/y')).toThrow('not an s3:// location'));
});
