import { isUtf8 } from 'node:buffer';
import { gunzip } from 'node:zlib';
import { HttpError } from './errors';

/**
 * Turns a raw request body into a JSON value: gunzip (bounded by `maxDecompressedBytes`), strict
 * UTF-8, then JSON.parse. Every failure is an {@link HttpError} with a stable code.
 */
export async function decodeJsonBody(raw: Buffer, contentEncoding: string | undefined, maxDecompressedBytes: number): Promise<unknown> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let body: Buffer;
  if (encoding === 'identity' || encoding === '') body = raw;
  else if (encoding === 'gzip' || encoding === 'x-gzip') body = await gunzipBounded(raw, maxDecompressedBytes);
  else throw new HttpError(415, 'unsupported_content_encoding', `Content-Encoding ${JSON.stringify(encoding)} is not supported; use gzip or none`);
  if (body.length === 0) throw new HttpError(400, 'empty_body', 'request body is empty');
  if (!isUtf8(body)) throw new HttpError(400, 'invalid_utf8', `request body is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(body)})`);
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function gunzipBounded(raw: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: max }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        reject(new HttpError(413, 'body_too_large', `request body is larger than ${max} bytes once decompressed`));
      } else {
        reject(new HttpError(400, 'invalid_gzip', `request body is not valid gzip: ${err.message}`));
      }
    });
  });
}

/** Offset of the first byte that breaks UTF-8 (called only on invalid input). */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const lead = buf[i] as number;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (!isUtf8(buf.subarray(i, i + length))) return i;
    i += length;
  }
  return buf.length;
}
