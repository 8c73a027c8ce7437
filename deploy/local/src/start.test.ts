import { DEMO_LOAD, demoLoadgenArgs, parseStartArgs } from './start';

describe('parseStartArgs', () => {
  it('takes --demo and nothing else', () => {
    expect(parseStartArgs([])).toEqual({ demo: false });
    expect(parseStartArgs(['--demo'])).toEqual({ demo: true });
    expect(() => parseStartArgs(['--demo', '--fast'])).toThrow(/unknown option --fast/);
  });
});

describe('demoLoadgenArgs', () => {
  const option = (args: string[], name: string) => args[args.indexOf(name) + 1];

  it('sends a gentle rate to the local collector and registers under the apps\' registry settings', () => {
    const args = demoLoadgenArgs({});
    expect(option(args, '--rate')).toBe(String(DEMO_LOAD.ratePerSec));
    expect(option(args, '--url')).toBe('http://127.0.0.1:8100');
    expect(option(args, '--registry')).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    expect(option(args, '--subject-prefix')).toBe('');
    expect(Number(option(args, '--duration'))).toBeGreaterThanOrEqual(86_400);

    const custom = demoLoadgenArgs({ SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7', SCHEMA_SUBJECT_PREFIX: 'dev.' });
    expect([option(custom, '--registry'), option(custom, '--subject-prefix')]).toEqual(['http://registry:8080/apis/ccompat/v7', 'dev.']);
  });
});
