import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import * as parquet from 'parquet-wasm';
import { PARQUET_FIELD_ID_KEY, buildArrowTable, buildArrowTableFromColumns, encodeParquet, type IcebergField } from './parquet';

const fields: IcebergField[] = [
  { id: 1, name: 'event_id', type: 'string', required: true },
  { id: 2, name: 'n', type: 'long', required: false },
  { id: 3, name: 'amount', type: 'double', required: false },
  { id: 4, name: 'ok', type: 'boolean', required: false },
  { id: 5, name: 'ts', type: 'timestamptz', required: false },
  { id: 7, name: 'day', type: 'int', required: false },
];

describe('Parquet encoding', () => {
  const rows = [
    { event_id: 'a', n: 1, amount: 1.5, ok: true, ts: '2026-11-27T10:00:00.123Z', day: 3 },
    { event_id: 'b', n: 9007199254740993n, amount: null, ok: false, ts: null, day: null },
  ];

  it('round-trips values and types and keeps field ids in the Parquet schema', () => {
    const bytes = encodeParquet(buildArrowTable(fields, rows));
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('PAR1');

    const back = tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
    expect(back.numRows).toBe(2);
    expect(back.schema.fields.map((f) => [f.name, f.metadata.get(PARQUET_FIELD_ID_KEY)])).toEqual(
      fields.map((f) => [f.name, String(f.id)]),
    );
    const first = back.get(0)?.toJSON();
    expect(first).toMatchObject({ event_id: 'a', n: 1n, amount: 1.5, ok: true, day: 3 });
    expect(Number(first?.['ts'])).toBe(Date.parse('2026-11-27T10:00:00.123Z'));
    const second = back.get(1)?.toJSON();
    expect(second).toMatchObject({ event_id: 'b', n: 9007199254740993n, amount: null, ok: false, ts: null, day: null });
  });

  it('round-trips any strings, ASCII or not, with nulls among them', () => {
    const text: IcebergField[] = [{ id: 1, name: 's', type: 'string', required: false }];
    fc.assert(
      fc.property(fc.array(fc.option(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }))), { maxLength: 40 }), (values) => {
        const back = tableFromIPC(parquet.readParquet(encodeParquet(buildArrowTableFromColumns(text, [values]))).intoIPCStream());
        // UTF-8 has no lone surrogates: they are written as U+FFFD, as Buffer.from writes them.
        expect(back.getChild('s')?.toArray() ?? []).toEqual(values.map((v) => (v === null ? null : Buffer.from(v, 'utf8').toString('utf8'))));
      }),
    );
  });

  it('compresses repetitive columns well below their JSON size', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({ event_id: `evt-${i}`, n: i % 10, amount: 2.5, ok: true, ts: 1_700_000_000_000 + i, day: 1 }));
    const bytes = encodeParquet(buildArrowTable(fields, many), { plainColumns: ['event_id'] });
    expect(bytes.length).toBeLessThan(JSON.stringify(many).length / 10);
  });
});
