import { Worker } from 'node:worker_threads';
import { tableToIPC, type Table } from 'apache-arrow';
import { writeParquetIpc, writerSettings, type ParquetOptions } from './parquet';

/**
 * The worker: Arrow IPC stream in, Parquet bytes out (both transferred, not copied). It gets the
 * path of parquet-wasm from its parent, so it runs the same build whether the parent is bundled or not.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const wasm = require(workerData.parquetWasm);
const write = ${writeParquetIpc.toString()};
parentPort.on('message', ({ id, ipc, settings }) => {
  try {
    const bytes = write(wasm, ipc, settings);
    parentPort.postMessage({ id, bytes }, [bytes.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (err: Error) => void;
}

/**
 * Encodes Arrow tables to Parquet (zstd, dictionaries, page statistics) on a worker thread, so a
 * large file does not hold the event loop (health probes, Kafka heartbeats and consumption go on
 * meanwhile) and the encode can use another core. Requests queue on the one worker in order. A
 * worker that dies fails what it held and is replaced on the next request.
 */
export class ParquetEncoder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  /** Files encoded and not yet returned. */
  get inFlight(): number {
    return this.pending.size;
  }

  encode(table: Table, opts: ParquetOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the Parquet encoder is closed'));
    const ipc = tableToIPC(table, 'stream');
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ipc, settings: writerSettings(opts) }, [ipc.buffer as ArrayBuffer]);
    });
  }

  /** Stops the worker; pending encodes fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the Parquet encoder closed'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm: require.resolve('parquet-wasm') } });
    worker.unref();
    worker.on('message', (msg: { id: number; bytes?: Uint8Array; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(`Parquet encode failed: ${msg.error}`));
      else p.resolve(msg.bytes as Uint8Array);
    });
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new Error(`the Parquet encoder worker ${reason}`));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
