import { createFaults } from './faults';

describe('fault injection', () => {
  it('fires only at the configured point and flush', () => {
    const kill = jest.fn();
    const faults = createFaults({ point: 'after-commit', atFlush: 2, kill });
    faults.hit('after-upload', 2);
    faults.hit('after-commit', 1);
    expect(kill).not.toHaveBeenCalled();
    faults.hit('after-commit', 2);
    expect(kill).toHaveBeenCalledTimes(1);
  });

  it('never fires when not configured', () => {
    const kill = jest.fn();
    createFaults({ atFlush: 1, kill }).hit('after-commit', 1);
    expect(kill).not.toHaveBeenCalled();
  });
});
