import type { HeaderValue } from '@pipeline/schemas';

/** Kafka record headers as the consumer hands them out. */
export type RecordHeaders = Readonly<Record<string, HeaderValue>>;

/** A header's first value as UTF-8 text; null when it is missing or empty. */
export function headerText(headers: RecordHeaders | undefined, name: string): string | null {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null) return null;
  const text = typeof first === 'string' ? first : first.toString('utf8');
  return text.length > 0 ? text : null;
}
