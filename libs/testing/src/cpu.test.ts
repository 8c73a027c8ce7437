import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuSecondsByTree, machineBusySeconds } from './cpu';

describe('cpuSecondsByTree', () => {
  it('counts a grandchild with the nearest named root and not with the roots above it', async () => {
    // A shell (the root) starts node, which spins for 400 ms of CPU and then waits for its stdin to close.
    const spin = 'const end = process.cpuUsage().user + 400000; while (process.cpuUsage().user < end); console.log("spun"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0))';
    // `; exit` keeps the shell as the parent rather than letting it exec node.
    const shell = spawn('sh', ['-c', `"${process.execPath}" -e '${spin}'; exit`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(shell.stdout, 'data')) as [Buffer];
      expect(line.toString()).toContain('spun');
      const busyBefore = machineBusySeconds();
      const cpu = cpuSecondsByTree({ spinner: shell.pid as number, jest: process.pid });
      expect(cpu['spinner']).toBeGreaterThanOrEqual(0.35);
      expect(cpu['spinner']).toBeLessThan(5);
      // The shell is a child of this process too, but it is a root of its own: not counted twice.
      const own = process.cpuUsage();
      expect(cpu['jest']).toBeLessThan((own.user + own.system) / 1e6 + 1);
      expect(machineBusySeconds()).toBeGreaterThanOrEqual(busyBefore);
    } finally {
      // End of input stops node, then the shell.
      shell.stdin.end();
      await once(shell, 'exit');
    }
  });

  it('reports 0 for a root that is not running', () => {
    expect(cpuSecondsByTree({ gone: 2 ** 22 + 7 })).toEqual({ gone: 0 });
  });
});
