import { Worker } from 'node:worker_threads';
import { tableToIPC, type Table } from 'apache-arrow';
import { writeParquetIpc, writerSettings, type ParquetOptions } from './parquet';

/**
 * The worker: Arrow IPC stream in, Parquet bytes out (both transferred, not copied), with the size
 * of parquet-wasm's linear memory after the write. It gets the path of parquet-wasm from its
 * parent, so it runs the same build whether the parent is bundled or not.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const wasm = require(workerData.parquetWasm);
const write = ${writeParquetIpc.toString()};
const memory = () => wasm.wasmMemory().buffer.byteLength;
parentPort.on('message', ({ id, ipc, settings }) => {
  try {
    const bytes = write(wasm, ipc, settings);
    parentPort.postMessage({ id, bytes, memory: memory() }, [bytes.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err), memory: memory() });
  }
});
`;

/**
 * WebAssembly memory only grows: after one large file the worker would keep that much resident for
 * good. Past this size the worker is retired once its queue is empty, and the next file starts a
 * fresh one (a few tens of milliseconds), so a burst's large flushes do not leave the process big.
 */
const DEFAULT_RETIRE_ABOVE_BYTES = 64 * 1024 * 1024;

export interface ParquetEncoderOptions {
  /** WebAssembly memory past which a worker is retired (default 64 MiB). */
  retireAboveBytes?: number;
  /** Called each time a worker starts (the first, and one per worker retired or lost). */
  onWorkerStarted?: () => void;
}

interface Pending {
  worker: Worker;
  resolve: (bytes: Uint8Array) => void;
  reject: (err: Error) => void;
}

/**
 * Encodes Arrow tables to Parquet (zstd, dictionaries, page statistics) on a worker thread, so a
 * large file does not hold the event loop (health probes, Kafka heartbeats and consumption go on
 * meanwhile) and the encode can use another core. Requests queue on the one worker in order. A
 * worker that dies fails what it held and is replaced on the next request; one whose memory grew
 * past `retireAboveBytes` is replaced too, after it has answered everything it was sent.
 */
export class ParquetEncoder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Workers being retired, with the number of their encodes not answered yet (always above zero). */
  private readonly retiring = new Map<Worker, number>();
  private nextId = 0;
  private closed = false;
  private started = 0;
  private readonly retireAboveBytes: number;
  private readonly onWorkerStarted: (() => void) | undefined;

  constructor(opts: ParquetEncoderOptions = {}) {
    this.retireAboveBytes = opts.retireAboveBytes ?? DEFAULT_RETIRE_ABOVE_BYTES;
    this.onWorkerStarted = opts.onWorkerStarted;
  }

  /** Files encoded and not yet returned. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Workers started so far (one, plus one per worker retired or lost). */
  get workersStarted(): number {
    return this.started;
  }

  encode(table: Table, opts: ParquetOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the Parquet encoder is closed'));
    const ipc = tableToIPC(table, 'stream');
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, ipc, settings: writerSettings(opts) }, [ipc.buffer as ArrayBuffer]);
    });
  }

  /** Stops the workers; pending encodes fail. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.retiring.keys(), ...(this.worker ? [this.worker] : [])];
    this.worker = undefined;
    this.retiring.clear();
    this.fail(undefined, new Error('the Parquet encoder closed'));
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm: require.resolve('parquet-wasm') } });
    this.started++;
    this.onWorkerStarted?.();
    worker.unref();
    worker.on('message', (msg: { id: number; bytes?: Uint8Array; error?: string; memory?: number }) => {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new Error(`Parquet encode failed: ${msg.error}`));
        else p.resolve(msg.bytes as Uint8Array);
      }
      // Answers a retiring worker still owes; this one was among them.
      let owed = this.retiring.get(worker);
      if (owed !== undefined) owed--;
      else if ((msg.memory ?? 0) > this.retireAboveBytes && this.worker === worker) {
        // New files go to a new worker from now on; this one ends once it has answered the rest.
        this.worker = undefined;
        owed = 0;
        for (const q of this.pending.values()) if (q.worker === worker) owed++;
      }
      if (owed === undefined) return;
      if (owed > 0) {
        this.retiring.set(worker, owed);
      } else {
        this.retiring.delete(worker);
        void worker.terminate();
      }
    });
    const lost = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      this.retiring.delete(worker);
      this.fail(worker, new Error(`the Parquet encoder worker ${reason}`));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  /** Fails the pending encodes of `worker` (of every worker when undefined). */
  private fail(worker: Worker | undefined, err: Error): void {
    for (const [id, p] of this.pending) {
      if (worker !== undefined && p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }
}
