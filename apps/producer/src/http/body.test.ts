import { gzipSync } from 'node:zlib';
import { decodeJsonBody, firstInvalidUtf8 } from './body';
import { HttpError } from './errors';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof HttpError ? `${err.status} ${err.code}` : String(err);
  }
}

describe('decodeJsonBody', () => {
  it('parses plain and gzip JSON and drops a UTF-8 BOM', async () => {
    expect(await decodeJsonBody(Buffer.from('[1,"é"]'), undefined, 100)).toEqual([1, 'é']);
    expect(await decodeJsonBody(gzipSync('{"a":1}'), 'gzip', 100)).toEqual({ a: 1 });
    expect(await decodeJsonBody(Buffer.from('\ufeff[]'), 'identity', 100)).toEqual([]);
  });

  it.each([
    [Buffer.from('{"a":'), undefined, '400 malformed_json'],
    [Buffer.from(''), undefined, '400 empty_body'],
    [gzipSync(''), 'gzip', '400 empty_body'],
    [Buffer.from([0x22, 0xff, 0x22]), undefined, '400 invalid_utf8'],
    [Buffer.from('[1]'), 'br', '415 unsupported_content_encoding'],
    [Buffer.from('not gzip'), 'gzip', '400 invalid_gzip'],
    [gzipSync(`"${'x'.repeat(500)}"`), 'gzip', '413 body_too_large'],
  ])('%#: refuses with a stable code', async (body, encoding, expected) => {
    expect(await codeOf(decodeJsonBody(body, encoding, 100))).toBe(expected);
  });

  it('names the offset of the first bad UTF-8 byte', () => {
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xc3, 0x28]))).toBe(2);
    expect(firstInvalidUtf8(Buffer.from([0xe2, 0x82, 0xac, 0x80]))).toBe(3);
    expect(firstInvalidUtf8(Buffer.from('ok'))).toBe(2);
  });
});
