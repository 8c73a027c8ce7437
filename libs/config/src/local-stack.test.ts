import { homedir } from 'node:os';
import { localStackStateDir } from './local-stack';

describe('localStackStateDir', () => {
  it('is PIPELINE_STATE_DIR, else under XDG_STATE_HOME, else under ~/.local/state', () => {
    expect(localStackStateDir({ PIPELINE_STATE_DIR: '/srv/pipeline', XDG_STATE_HOME: '/x' })).toBe('/srv/pipeline');
    expect(localStackStateDir({ XDG_STATE_HOME: '/x' })).toBe('/x/event-pipeline');
    expect(localStackStateDir({})).toBe(`${homedir()}/.local/state/event-pipeline`);
  });
});
