import { appendPath, formatPath } from './problems';

describe('paths', () => {
  it.each<[(string | number)[], string]>([
    [[], '$'],
    [[3, 'properties', 'price'], '$[3].properties.price'],
    [[0, 'properties', 'items', 2, 'sku'], '$[0].properties.items[2].sku'],
    [[1, 'properties', 'unit price'], '$[1].properties["unit price"]'],
    [[1, 'properties', '0'], '$[1].properties["0"]'],
    [[1, 'properties', ''], '$[1].properties[""]'],
    [[1, 'properties', 'say "hi"'], '$[1].properties["say \\"hi\\""]'],
    [[1, 'properties', '$ref'], '$[1].properties.$ref'],
  ])('formats %j as %s', (segments, path) => {
    expect(formatPath(segments)).toBe(path);
  });

  it('appends to any root', () => {
    expect(appendPath('$.batch[2]', 'messageId')).toBe('$.batch[2].messageId');
    expect(formatPath(['a'], '$.batch[0]')).toBe('$.batch[0].a');
  });
});
