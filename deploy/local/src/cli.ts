import { StackError } from './progress';
import { down, install, logs, selectServices, status, up } from './stack';
import { parseStartArgs, runPipeline } from './start';
import { runTests } from './test-runner';

const USAGE = `usage:
  npm start                             the stack and the four apps in the foreground; Ctrl-C stops them
  npm start -- --demo                   the same, plus a gentle load generator that fills the dashboard
  npm test                              lint, unit tests, builds, then integration tests on the real stack
  npm run stack -- install [service…]   download and unpack into the cache
  npm run stack -- up [service…]        start what is not running and wait until ready
  npm run stack -- down [service…]      stop what this stack started (by pid file)
  npm run stack -- status               one line per service
  npm run stack -- logs [-f] [-n N] [service…]
services: postgres, object-store, kafka, registry, trino`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runPipeline(parseStartArgs(rest));
    case 'test':
      return runTests(rest);
    case 'stack':
      return stack(rest);
    default:
      console.log(USAGE);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

async function stack(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const names = rest.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a));
  switch (sub) {
    case 'install':
      await install(selectServices(names));
      return 0;
    case 'up': {
      const started = Date.now();
      await up(selectServices(names));
      console.log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'down':
      await down(selectServices(names));
      return 0;
    case 'status':
      return (await status(selectServices(names))) ? 0 : 1;
    case 'logs': {
      const nIndex = rest.indexOf('-n');
      const lines = nIndex >= 0 ? Number(rest[nIndex + 1] ?? 100) : 100;
      logs(selectServices(names), rest.includes('-f'), lines);
      return 0;
    }
    default:
      console.log(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StackError) console.error(`error: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
