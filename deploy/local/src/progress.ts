/** One progress line per step: a live elapsed counter on a terminal, a heartbeat line elsewhere. */
export async function step<T>(label: string, fn: () => Promise<T>, doneText?: (value: T) => string): Promise<T> {
  const started = Date.now();
  const tty = process.stdout.isTTY === true;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let ticker: NodeJS.Timeout | undefined;
  if (tty) {
    process.stdout.write(`  … ${label}`);
    ticker = setInterval(() => process.stdout.write(`\r  … ${label} (${elapsed()})`), 500);
  } else {
    console.log(`  … ${label}`);
    ticker = setInterval(() => console.log(`  … ${label}: still working (${elapsed()})`), 20_000);
  }
  const clear = () => {
    clearInterval(ticker);
    if (tty) process.stdout.write('\r\x1b[2K');
  };
  try {
    const value = await fn();
    clear();
    console.log(`  ✓ ${doneText ? doneText(value) : label} (${elapsed()})`);
    return value;
  } catch (err) {
    clear();
    console.log(`  ✗ ${label} failed after ${elapsed()}`);
    throw err;
  }
}

/** An error meant for a person: printed without a stack trace. */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}
