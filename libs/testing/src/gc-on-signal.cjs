// Preloaded into a Node.js process under test (NODE_OPTIONS="--expose-gc --require <this file>"):
// SIGUSR2 runs a full garbage collection. V8 on a large machine collects lazily and keeps the pages
// of its largest heap, so without it RSS measures how long collection was put off, not what the
// process keeps alive.
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
});
