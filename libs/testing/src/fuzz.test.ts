import fc from 'fast-check';
import { fuzzSettings, looksLikeStackTrace, median } from './fuzz';
import { damageBytes, hostileJson, json, percentEncode, renderJson } from './hostile';
import { encodeRawRequest, parseRawResponse } from './raw-http';

describe('fuzzSettings', () => {
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  afterAll(() => write.mockRestore());

  it('uses the defaults, takes FUZZ_SEED / FUZZ_RUNS / FUZZ_TIME_LIMIT_S / FUZZ_SHRINK, and prints them', () => {
    expect(fuzzSettings('s', { seed: 7, numRuns: 10, timeLimitS: 60 }, {})).toEqual({ seed: 7, numRuns: 10, timeLimitMs: 60_000, shrink: false });
    expect(fuzzSettings('s', { seed: 7, numRuns: 10, timeLimitS: 60 }, { FUZZ_SEED: '-3', FUZZ_RUNS: '5000', FUZZ_TIME_LIMIT_S: '900', FUZZ_SHRINK: '1' })).toEqual({
      seed: -3,
      numRuns: 5000,
      timeLimitMs: 900_000,
      shrink: true,
    });
    expect(write).toHaveBeenLastCalledWith(expect.stringContaining('FUZZ_SEED=-3 FUZZ_RUNS=5000'));
  });

  it.each([['FUZZ_RUNS', '0'], ['FUZZ_RUNS', 'many'], ['FUZZ_SEED', '1.5']])('refuses %s=%s', (name, value) => {
    expect(() => fuzzSettings('s', { seed: 1, numRuns: 1, timeLimitS: 1 }, { [name]: value })).toThrow(name);
  });
});

describe('median and stack traces', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it.each([
    ['Error: x\n    at fn (/work/main/apps/producer/src/app.ts:12:5)', true],
    ['at Object.<anonymous> (node:internal/modules/cjs/loader:1521:14)', true],
    ['see dist/apps/producer/main.cjs:100:20', true],
    ['{"error":{"code":"malformed_json","message":"Unexpected token at position 3"}}', false],
    ['line 1:8: mismatched input', false],
  ])('looksLikeStackTrace(%j) is %s', (text, expected) => {
    expect(looksLikeStackTrace(text)).toBe(expected);
  });
});

describe('hostile JSON', () => {
  it('writes duplicate keys and raw numbers that JSON.stringify cannot', () => {
    const node = json.object([
      ['a', json.number('1e999')],
      ['a', json.string('\ud800')],
      ['__proto__', json.raw('[[[]]]')],
    ]);
    expect(renderJson(node)).toBe('{"a":1e999,"a":"\\ud800","__proto__":[[[]]]}');
  });

  it('always renders text JSON.parse accepts (raw nodes aside)', () => {
    fc.assert(
      fc.property(hostileJson(), (node) => {
        JSON.parse(renderJson(node));
      }),
      { numRuns: 300 },
    );
  });

  it('damages bytes by truncating, inserting and flipping', () => {
    const body = Buffer.from('[1,2,3]');
    expect(damageBytes(body, { kind: 'truncate', at: 0.5 }).toString()).toBe('[1,');
    expect([...damageBytes(body, { kind: 'insert', at: 0, bytes: [0xff] })].slice(0, 2)).toEqual([0xff, 0x5b]);
    expect(damageBytes(body, { kind: 'flip', at: 1, mask: 1 }).toString()).toBe('[1,2,3\\');
    expect(percentEncode('a b\ud800')).toBe('a%20b%EF%BF%BD');
  });
});

describe('raw HTTP', () => {
  it('writes the request as given, with the declared Content-Length and only the bytes to send', () => {
    const bytes = encodeRawRequest('h:1', { method: 'PUT', path: '/x', headers: [['X-A', '\u00e9']], body: Buffer.from('abcdef'), contentLength: 10, sendBytes: 3 });
    expect(bytes.toString('latin1')).toBe('PUT /x HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\nX-A: \u00e9\r\nContent-Length: 10\r\n\r\nabc');
  });

  it('parses Content-Length and chunked answers, skips 100 Continue, and tells an incomplete one', () => {
    const plain = parseRawResponse(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'));
    expect(plain).toEqual({ status: 400, headers: { 'content-type': 'application/json', 'content-length': '2' }, body: Buffer.from('{}') });
    const chunked = parseRawResponse(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'));
    expect(chunked?.body.toString()).toBe('abcde');
    expect(parseRawResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'))).toBeUndefined();
    expect(parseRawResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'), true)).toMatchObject({ status: 200, body: Buffer.alloc(0) });
    expect(parseRawResponse(Buffer.from('garbage\r\n\r\n'))).toBeUndefined();
  });
});
