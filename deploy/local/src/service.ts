/** A service of the local stack: installed once into the cache, started as a plain process. */
export interface Service {
  /** Short name used for log and pid files. */
  name: string;
  /** What is installed, for status lines and notes. */
  version: string;
  /** The ports it listens on (127.0.0.1), the first being its main port. */
  ports: number[];
  /** Text that appears in the process's command line; guards against recycled pids. */
  marker: string;
  /** Signal for a clean stop (PostgreSQL wants SIGINT for a fast shutdown). */
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  readyTimeoutMs: number;
  isInstalled(): boolean;
  install(): Promise<void>;
  /** Prepares data directories and starts the process; returns its pid. */
  start(): Promise<number>;
  /** True once the service answers real requests. */
  ready(): Promise<boolean>;
  /** One-off setup after the first ready (users, buckets, databases); must be idempotent. */
  afterReady?(): Promise<void>;
}
