import { cacheOptions, chooseFormat, csvField } from './respond';

describe('chooseFormat', () => {
  it.each([
    [undefined, undefined, 'json'],
    [undefined, 'application/x-ndjson', 'ndjson'],
    [undefined, 'text/csv', 'csv'],
    [undefined, 'text/csv;q=0.5, application/x-ndjson', 'ndjson'],
    [undefined, '*/*', 'json'],
    ['csv', 'application/json', 'csv'],
  ])('format=%s, Accept: %s -> %s', (explicit, accept, expected) => {
    expect(chooseFormat(explicit, accept)).toBe(expected);
  });

  it('answers 406 to an Accept it cannot serve', () => {
    expect(() => chooseFormat(undefined, 'application/xml')).toThrow(expect.objectContaining({ status: 406 }));
  });
});

describe('cacheOptions', () => {
  const defaults = { maxAgeSeconds: 60, capSeconds: 3600 };
  it('uses the default age, the body, or Cache-Control, capped', () => {
    expect(cacheOptions(undefined, undefined, defaults)).toEqual({ bypass: false, maxAgeSeconds: 60 });
    expect(cacheOptions({ maxAgeSeconds: 5 }, undefined, defaults)).toEqual({ bypass: false, maxAgeSeconds: 5 });
    expect(cacheOptions({ bypass: true }, undefined, defaults)).toEqual({ bypass: true, maxAgeSeconds: 60 });
    expect(cacheOptions(undefined, 'no-cache', defaults)).toEqual({ bypass: true, maxAgeSeconds: 60 });
    expect(cacheOptions(undefined, 'max-age=7200', defaults)).toEqual({ bypass: false, maxAgeSeconds: 3600 });
  });
});

describe('csvField', () => {
  it.each([
    [null, ''],
    ['', '""'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    [' padded', '" padded"'],
    [12345678901234567890n, '12345678901234567890'],
    [[1, 'x'], '"[1,""x""]"'],
    [true, 'true'],
  ])('%j -> %s', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});
