/**
 * Iceberg metadata holds 64-bit ids (snapshot ids) that JSON.parse would round. These helpers
 * read integers beyond 2^53 as BigInt and write BigInt back as plain JSON numbers.
 */

const SENTINEL = '\u0001bigint:';

/** Parses JSON text, turning integer literals outside the safe range into BigInt. */
export function parseJsonBig(text: string): unknown {
  let out = '';
  let i = 0;
  const n = text.length;
  let inString = false;
  let last = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i += 2;
      else {
        if (c === 34 /* " */) inString = false;
        i++;
      }
      continue;
    }
    if (c === 34) {
      inString = true;
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j] as string)) j++;
      const literal = text.slice(i, j);
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += text.slice(last, i) + JSON.stringify(SENTINEL + literal);
        last = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  out += text.slice(last);
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(SENTINEL) ? BigInt(value.slice(SENTINEL.length)) : value,
  );
}

/** Serialises like JSON.stringify (no indentation), writing BigInt values as JSON numbers. */
export function stringifyJsonBig(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyJsonBig(v))).join(',')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${stringifyJsonBig(v)}`);
  }
  return `{${parts.join(',')}}`;
}
