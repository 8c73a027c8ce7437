import { cpus, freemem, totalmem, loadavg, release, platform } from 'node:os';

/** What the numbers were measured on: results are only comparable on like machines. */
export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpu_model: cpu[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 1024 ** 3),
    free_memory_gb: Math.round(freemem() / 1024 ** 3),
    load_average_at_start: loadavg().map((l) => Math.round(l * 100) / 100),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}
