import { murmur3 } from './hash';

describe('murmur3', () => {
  // Published MurmurHash3_x86_32 vectors; the last one checks UTF-8 (not UTF-16) hashing.
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0, 0xb3dd93fa],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ])('murmur3(%j, %d) = %d', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
  });

  it('hashes astral characters as 4-byte UTF-8 and a lone surrogate as U+FFFD', () => {
    expect(murmur3('😀')).toBe(murmur3('\u{1F600}'));
    expect(murmur3('\ud800')).toBe(murmur3('\ufffd'));
    expect(murmur3('😀')).not.toBe(murmur3('\ufffd\ufffd'));
  });
});
