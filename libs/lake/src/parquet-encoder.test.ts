import { buildArrowTable, encodeParquet, type IcebergField } from './parquet';
import { ParquetEncoder } from './parquet-encoder';

const fields: IcebergField[] = [
  { id: 1, name: 'event_id', type: 'string', required: true },
  { id: 2, name: 'n', type: 'long', required: false },
  { id: 3, name: 'ts', type: 'timestamptz', required: false },
];

const rowsOf = (count: number, tag: string) =>
  Array.from({ length: count }, (_, i) => ({ event_id: `${tag}-${i}-${Math.random().toString(36).slice(2)}`, n: i % 17, ts: 1_700_000_000_000 + i }));

describe('ParquetEncoder (worker thread)', () => {
  let encoder: ParquetEncoder;
  beforeEach(() => {
    encoder = new ParquetEncoder();
  });
  afterEach(() => encoder.close());

  it('writes the same bytes as the in-thread encoder, for several files in flight at once', async () => {
    const tables = ['a', 'b', 'c'].map((tag, i) => buildArrowTable(fields, rowsOf(1_000 * (i + 1), tag)));
    const opts = { plainColumns: ['event_id'], maxRowGroupSize: 1_500 };
    const fromWorker = await Promise.all(tables.map((t) => encoder.encode(t, opts)));
    expect(fromWorker.map((b) => Buffer.from(b))).toEqual(tables.map((t) => Buffer.from(encodeParquet(t, opts))));
    expect(encoder.inFlight).toBe(0);
  });

  it('keeps the event loop turning while a large file encodes', async () => {
    const table = buildArrowTable(fields, rowsOf(300_000, 'big'));
    const started = performance.now();
    encodeParquet(table);
    const inThreadMs = performance.now() - started;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const t0 = performance.now();
      await encoder.encode(table);
      const workerMs = performance.now() - t0;
      // The in-thread encode would have let no tick through; here the timer keeps firing.
      expect(inThreadMs).toBeGreaterThan(50);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(workerMs / 5 / 4));
      expect(ticks).toBeGreaterThan(2);
    } finally {
      clearInterval(timer);
    }
  }, 30_000);

  it('fails the encodes a dead worker held and starts a new one for the next', async () => {
    const table = buildArrowTable(fields, rowsOf(50_000, 'x'));
    const pending = encoder.encode(table);
    await (encoder as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(pending).rejects.toThrow(/worker exited/);
    const bytes = await encoder.encode(table);
    expect(Buffer.from(bytes)).toEqual(Buffer.from(encodeParquet(table)));
  });

  it('keeps one worker while its memory stays small', async () => {
    for (let i = 0; i < 5; i++) await encoder.encode(buildArrowTable(fields, rowsOf(2_000, `s${i}`)));
    expect(encoder.workersStarted).toBe(1);
  });

  it('retires a worker whose memory grew past the limit, after it has answered what it was sent', async () => {
    let started = 0;
    const small = new ParquetEncoder({ retireAboveBytes: 1, onWorkerStarted: () => started++ });
    try {
      const tables = ['a', 'b', 'c'].map((tag) => buildArrowTable(fields, rowsOf(3_000, tag)));
      // Three files in flight on one worker: the first answer retires it, the other two are still answered by it.
      const together = await Promise.all(tables.map((t) => small.encode(t)));
      expect(together.map((b) => Buffer.from(b))).toEqual(tables.map((t) => Buffer.from(encodeParquet(t))));
      expect(small.workersStarted).toBe(1);
      // Each later file starts a new worker (the limit is one byte).
      for (const t of tables) expect(Buffer.from(await small.encode(t))).toEqual(Buffer.from(encodeParquet(t)));
      expect(small.workersStarted).toBe(4);
      expect(started).toBe(4);
      expect(small.inFlight).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('refuses work once closed', async () => {
    await encoder.close();
    await expect(encoder.encode(buildArrowTable(fields, rowsOf(1, 'z')))).rejects.toThrow(/closed/);
  });
});
