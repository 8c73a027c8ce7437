import { murmur3Pair } from './hash';

/**
 * HyperLogLog sketch: 2^precision registers of 6 bits (stored one per byte). The register index comes
 * from the top `precision` bits of one 32-bit MurmurHash3 and the rank from the leading zeros of a
 * second, independently seeded one, so ranks are 1..33 whatever the precision (q = 32 in Ertl's
 * notation) and no large-range correction is needed for any realistic cardinality.
 */
export interface HyperLogLog {
  precision: number;
  registers: Uint8Array;
}

export interface HyperLogLogJson {
  precision: number;
  /** Registers, one byte each, base64. */
  registers: string;
}

export const MIN_PRECISION = 4;
export const MAX_PRECISION = 18;
const RANK_BITS = 32;

/** Creates an empty sketch with 2^precision registers; throws RangeError outside 4..18. */
export function createHyperLogLog(precision: number): HyperLogLog {
  if (!Number.isInteger(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
    throw new RangeError(`HyperLogLog precision must be an integer in ${MIN_PRECISION}..${MAX_PRECISION}, got ${precision}`);
  }
  return { precision, registers: new Uint8Array(1 << precision) };
}

/** Adds one value (hashed as UTF-8); never throws. */
export function addToHyperLogLog(sketch: HyperLogLog, value: string): void {
  const [indexHash, rankHash] = murmur3Pair(value);
  const index = indexHash >>> (32 - sketch.precision);
  const rank = Math.clz32(rankHash) + 1;
  if (rank > (sketch.registers[index] ?? 0)) sketch.registers[index] = rank;
}

/** Merges `from` into `into` (register-wise max); throws RangeError when precisions differ. */
export function mergeHyperLogLog(into: HyperLogLog, from: HyperLogLog): void {
  if (into.precision !== from.precision) {
    throw new RangeError(`cannot merge HyperLogLog sketches of precision ${into.precision} and ${from.precision}`);
  }
  const a = into.registers;
  const b = from.registers;
  for (let i = 0; i < a.length; i++) {
    const rank = b[i] ?? 0;
    if (rank > (a[i] ?? 0)) a[i] = rank;
  }
}

/** Standard error of the estimate for a precision: 1.04 / sqrt(2^precision) (0.0081 at precision 14). */
export function hyperLogLogStandardError(precision: number): number {
  return 1.04 / Math.sqrt(2 ** precision);
}

/**
 * Estimated number of distinct values, using Ertl's improved estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", 2017): unbiased across the whole range without the empirical
 * bias tables of HLL++ or a switch to linear counting. Returns 0 for an empty sketch.
 */
export function estimateHyperLogLog(sketch: HyperLogLog): number {
  const m = sketch.registers.length;
  const histogram = new Array<number>(RANK_BITS + 2).fill(0);
  for (const r of sketch.registers) histogram[r] = (histogram[r] ?? 0) + 1;
  const count = (rank: number): number => histogram[rank] ?? 0;
  let z = m * tau((m - count(RANK_BITS + 1)) / m);
  for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + count(k));
  z += m * sigma(count(0) / m);
  return (m * m) / (2 * Math.LN2 * z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}

/** Serialises a sketch to plain JSON (registers as base64). */
export function hyperLogLogToJson(sketch: HyperLogLog): HyperLogLogJson {
  return { precision: sketch.precision, registers: Buffer.from(sketch.registers).toString('base64') };
}

/** Restores a sketch from `hyperLogLogToJson` output; throws RangeError on a bad precision or register array. */
export function hyperLogLogFromJson(json: HyperLogLogJson): HyperLogLog {
  const sketch = createHyperLogLog(json.precision);
  const bytes = Buffer.from(json.registers, 'base64');
  if (bytes.length !== sketch.registers.length) {
    throw new RangeError(`HyperLogLog registers: expected ${sketch.registers.length} bytes, got ${bytes.length}`);
  }
  for (const [i, r] of bytes.entries()) {
    if (r > RANK_BITS + 1) throw new RangeError(`HyperLogLog register ${i} holds ${r}, above ${RANK_BITS + 1}`);
    sketch.registers[i] = r;
  }
  return sketch;
}
