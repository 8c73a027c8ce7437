import { parseJsonBig, stringifyJsonBig } from './json';

describe('JSON with 64-bit ids', () => {
  it('keeps integers beyond 2^53 exact and leaves the rest alone', () => {
    const text = '{"snapshot-id":3982219180747027829,"n":42,"f":1.5,"neg":-4668534893667514631,"s":"id 3982219180747027829 in text","e":1e21,"a":[9007199254740993]}';
    const parsed = parseJsonBig(text) as Record<string, unknown>;
    expect(parsed['snapshot-id']).toBe(3982219180747027829n);
    expect(parsed['neg']).toBe(-4668534893667514631n);
    expect(parsed['n']).toBe(42);
    expect(parsed['f']).toBe(1.5);
    expect(parsed['e']).toBe(1e21);
    expect(parsed['s']).toBe('id 3982219180747027829 in text');
    expect(parsed['a']).toEqual([9007199254740993n]);
    expect(stringifyJsonBig(parsed)).toBe(text.replace('1e21', '1e+21'));
  });

  it('handles escaped quotes inside strings', () => {
    const text = '{"summary":{"pipeline.kafka-offsets":"{\\"t\\":{\\"0\\":\\"12345678901234567890\\"}}"},"id":12345678901234567890}';
    const parsed = parseJsonBig(text) as { summary: Record<string, string>; id: bigint };
    expect(parsed.summary['pipeline.kafka-offsets']).toBe('{"t":{"0":"12345678901234567890"}}');
    expect(parsed.id).toBe(12345678901234567890n);
    expect(stringifyJsonBig(parsed)).toBe(text);
  });
});
