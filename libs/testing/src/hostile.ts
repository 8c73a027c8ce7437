import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/**
 * fast-check arbitraries of hostile input shared by the HTTP fuzz suites: strings that break
 * naive code (lone surrogates, NUL, bidi controls, prototype keys, quotes), JSON text that
 * JSON.stringify cannot produce (duplicate keys, numbers past double range), byte-level damage,
 * and hostile request lines and headers.
 */

const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\ud83d\ude00',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\u2028',
  'e\u0301',
  '\u{10ffff}',
  '\uffff',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  "'",
  "''",
  '"',
  '\\',
  '\\u0000',
  "'; DROP TABLE events; --",
  '--',
  '/*',
  '*/',
  '${7*7}',
  '%s%n%x',
  '../../../etc/passwd',
  '\r\n',
  'null',
  'NaN',
  '-0',
  '1e999',
  '[]',
  '{}',
  '<script>alert(1)</script>',
];

/** Strings that break naive code: lone surrogates, NUL, bidi and zero-width characters, prototype keys, quotes, long runs. */
export function hostileString(): fc.Arbitrary<string> {
  const long = fc
    .tuple(fc.constantFrom('a', 'é', '\ud800', '\u{1d54f}', '\u0000', ' ', "'"), fc.constantFrom(65, 129, 257, 1025, 8193, 20_000))
    .map(([c, n]) => c.repeat(n));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
    { weight: 2, arbitrary: fc.array(fc.constantFrom(...SPECIAL_STRINGS, 'a', 'é', '1'), { maxLength: 6 }).map((parts) => parts.join('')) },
    { weight: 1, arbitrary: long },
  );
}

/** JSON number text, including values JSON.parse turns into Infinity, 0 or an inexact double. */
export function hostileNumberText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('0', '-0', '1e999', '-1e999', '1e-999', '123456789012345678901234567890', '9007199254740993', '0.1', '1E+2', '-1.5e308', '4.9e-324', `1${'0'.repeat(400)}`),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  );
}

/** A JSON document as a tree, so duplicate keys and raw number text survive to the wire. */
export type JsonNode =
  | { t: 'string'; value: string }
  | { t: 'number'; text: string }
  | { t: 'literal'; text: 'true' | 'false' | 'null' }
  | { t: 'array'; items: JsonNode[] }
  | { t: 'object'; entries: Array<[string, JsonNode]> }
  /** Text written as is: an id filled in at send time, a deep nest, a deliberately broken token. */
  | { t: 'raw'; text: string };

export const json = {
  string: (value: string): JsonNode => ({ t: 'string', value }),
  number: (n: number | string): JsonNode => ({ t: 'number', text: String(n) }),
  literal: (text: 'true' | 'false' | 'null'): JsonNode => ({ t: 'literal', text }),
  array: (items: JsonNode[]): JsonNode => ({ t: 'array', items }),
  object: (entries: Array<[string, JsonNode]>): JsonNode => ({ t: 'object', entries }),
  raw: (text: string): JsonNode => ({ t: 'raw', text }),
  /** The tree of a plain JavaScript value (no duplicates, no raw numbers). */
  from(value: unknown): JsonNode {
    if (value === null || value === undefined) return { t: 'literal', text: 'null' };
    if (typeof value === 'string') return { t: 'string', value };
    if (typeof value === 'number') return { t: 'number', text: JSON.stringify(value) };
    if (typeof value === 'boolean') return { t: 'literal', text: value ? 'true' : 'false' };
    if (Array.isArray(value)) return { t: 'array', items: value.map((v) => json.from(v)) };
    return { t: 'object', entries: Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, json.from(v)]) };
  },
};

/** JSON text of a tree; strings go through JSON.stringify (lone surrogates become `\ud800` escapes). */
export function renderJson(node: JsonNode): string {
  switch (node.t) {
    case 'string':
      return JSON.stringify(node.value);
    case 'number':
    case 'literal':
    case 'raw':
      return node.text;
    case 'array':
      return `[${node.items.map(renderJson).join(',')}]`;
    case 'object':
      return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${renderJson(v)}`).join(',')}}`;
  }
}

/** Any JSON tree with hostile keys, strings and numbers; objects sometimes repeat a key. */
export function hostileJson(maxDepth = 4): fc.Arbitrary<JsonNode> {
  const key = fc.oneof({ weight: 3, arbitrary: hostileString() }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'event_id', 'properties', 'sql', 'parameters') });
  const { node } = fc.letrec<{ node: JsonNode; leaf: JsonNode; array: JsonNode; object: JsonNode }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth, withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
    leaf: fc.oneof(
      hostileString().map(json.string),
      hostileNumberText().map(json.number),
      fc.constantFrom('true', 'false', 'null').map((t) => json.literal(t as 'true' | 'false' | 'null')),
    ),
    array: fc.array(tie('node'), { maxLength: 5 }).map(json.array),
    object: fc
      .tuple(fc.array(fc.tuple(key, tie('node')), { maxLength: 5 }), fc.boolean())
      .map(([entries, repeat]) => json.object(repeat && entries.length > 0 ? [...entries, entries[0] as [string, JsonNode]] : entries)),
  }));
  return node;
}

/** Deeply nested JSON text (arrays, objects or both), up to `maxDepth` levels. */
export function deepJsonText(maxDepth: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom('array', 'object', 'mixed'), fc.integer({ min: 10, max: maxDepth })).map(([shape, depth]) => {
    if (shape === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (shape === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`;
  });
}

/** Damage done to a body's bytes. */
export type ByteDamage =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'flip'; at: number; mask: number };

const BAD_BYTES: number[][] = [
  [0x00],
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xef, 0xbb, 0xbf],
  [0x22],
  [0x5c],
  [0x7b],
];

/** A random byte-level mutation; `at` is a fraction of the body length. */
export function byteDamage(): fc.Arbitrary<ByteDamage> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    at.map((a): ByteDamage => ({ kind: 'truncate', at: a })),
    fc.tuple(at, fc.oneof(fc.constantFrom(...BAD_BYTES), fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => [...b]))).map(([a, bytes]): ByteDamage => ({ kind: 'insert', at: a, bytes })),
    fc.tuple(at, fc.integer({ min: 1, max: 255 })).map(([a, mask]): ByteDamage => ({ kind: 'flip', at: a, mask })),
  );
}

/** Applies `damage` to a copy of `body`. */
export function damageBytes(body: Buffer, damage: ByteDamage): Buffer {
  const at = Math.min(body.length, Math.floor(damage.at * body.length));
  switch (damage.kind) {
    case 'truncate':
      return Buffer.from(body.subarray(0, at));
    case 'insert':
      return Buffer.concat([body.subarray(0, at), Buffer.from(damage.bytes), body.subarray(at)]);
    case 'flip': {
      const copy = Buffer.from(body);
      if (copy.length > 0) copy[Math.min(at, copy.length - 1)] = (copy[Math.min(at, copy.length - 1)] as number) ^ damage.mask;
      return copy;
    }
  }
}

const gzipCache = new Map<string, Buffer>();

/** gzip of `size` bytes of `fill` (a compression bomb when large), memoised: the same bombs are sent many times. */
export function gzipBomb(size: number, fill = ' '): Buffer {
  const key = `${size}:${fill}`;
  let out = gzipCache.get(key);
  if (!out) {
    out = gzipSync(Buffer.alloc(size, fill));
    gzipCache.set(key, out);
  }
  return out;
}

/** Percent-encodes the UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, where encodeURIComponent throws). */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** HTTP methods, including ones no route has and ones the HTTP parser refuses. */
export function hostileMethod(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
    { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'QUERY', 'get', 'FOO', 'P0ST', 'CONNECT', '') },
  );
}

/**
 * A request target: one of `known` (possibly decorated with a query, dot segments, bad escapes,
 * doubled slashes), or random segments, raw non-ASCII and very long paths.
 */
export function hostilePath(known: readonly string[]): fc.Arbitrary<string> {
  const decoration = fc.constantFrom('', '', '/', '//', '?', '?x=1', '?format=csv', '?format=%00', '#frag', '%00', '%zz', '%', '/..', '/%2e%2e/healthz', ';x', '?a=1&a=2&a[]=3', '?__proto__[x]=1');
  const segment = fc.oneof(fc.constantFrom('v1', 'events', 'batch', 'query', 'queries', 'run', 'tables', '..', '.', '%2F', '%ff', '%c0%af', '*'), fc.string({ maxLength: 10 }).map(percentEncode));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...known), decoration).map(([p, d]) => p + d) },
    { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`) },
    { weight: 1, arbitrary: fc.constantFrom('*', '', 'http://evil.example/v1/events', '/v1/events\u00e9', '/v1/\u00ff\u00fe', '/v1/ev ents', `/${'a'.repeat(5000)}`, `/${'a'.repeat(70_000)}`) },
  );
}

/** A header value: printable text, latin1 bytes, control characters, or very long. */
export function hostileHeaderValue(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom('\u0000', 'a\tb', 'x\r\nInjected: 1', '', ' ', 'a'.repeat(9000), 'a'.repeat(20_000)) },
  );
}
