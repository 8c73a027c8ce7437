import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of the CPU times in /proc (USER_HZ). */
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10);
    ticksPerSecond = Number.isInteger(out) && out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

interface ProcStat {
  ppid: number;
  /** User + system CPU ticks of the process (all its threads). */
  ticks: number;
}

/** `/proc/<pid>/stat` of one process, or undefined when it is gone. */
function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state (3), ppid (4), ..., utime (14), stime (15), in proc(5) numbering.
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** Busy CPU seconds of the whole machine since boot (/proc/stat: every state but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks();
}

/**
 * CPU seconds used so far by each named process tree: a live process counts toward the nearest of
 * `roots` among itself and its ancestors, so a root's children (a JVM started by a shell, an app
 * started by the bench) count with it unless they are roots themselves. Processes that already
 * exited are not counted, so the figures are for differences over intervals in which the trees
 * keep their processes.
 */
export function cpuSecondsByTree(roots: Readonly<Record<string, number>>): Record<string, number> {
  const nameOf = new Map<number, string>();
  for (const [name, pid] of Object.entries(roots)) nameOf.set(pid, name);
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (stat !== undefined) table.set(pid, stat);
  }
  const out: Record<string, number> = Object.fromEntries(Object.keys(roots).map((name) => [name, 0]));
  const hz = clockTicks();
  for (const [pid, stat] of table) {
    let cur: number | undefined = pid;
    for (let depth = 0; cur !== undefined && cur > 1 && depth < 64; depth++) {
      const name = nameOf.get(cur);
      if (name !== undefined) {
        out[name] = (out[name] ?? 0) + stat.ticks / hz;
        break;
      }
      cur = table.get(cur)?.ppid;
    }
  }
  return out;
}
