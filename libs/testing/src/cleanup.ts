type Cleanup = () => Promise<unknown> | unknown;

/**
 * Collects cleanups as resources are created and runs them in reverse order (call `run` from afterAll).
 * A failing cleanup does not stop the others; the first failure is rethrown at the end.
 */
export function createCleanup(): { add: (fn: Cleanup) => void; run: () => Promise<void> } {
  const stack: Cleanup[] = [];
  return {
    add: (fn) => void stack.push(fn),
    run: async () => {
      let first: unknown;
      while (stack.length > 0) {
        const fn = stack.pop();
        try {
          await fn?.();
        } catch (err) {
          first ??= err;
        }
      }
      if (first) throw first;
    },
  };
}
