/**
 * npm run bench:faults [-- --rate 300] [--outage-seconds 30] [--restart-down-seconds 10] [--faults kill-producer,trino-down]
 *
 * Faults under load (issue #8 item 3), the full version of apps/pipeline-e2e's faults test with the
 * same scenario (apps/pipeline-e2e/src/faults): each app SIGKILLed and restarted, the broker
 * restarted, the object store and Trino stopped for 30 s, PostgreSQL restarted, each under a steady
 * load; per fault what readiness and metrics showed, the recovery times, and every acknowledged
 * event_id against the lake. Writes bench/results/faults.json (see bench/faults/README.md).
 *
 * It stops services of the shared local stack (through the stack tool, always starting them again):
 * nobody else should be running tests meanwhile.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { FAULT_IDS, type FaultId } from '../../apps/pipeline-e2e/src/faults/faults';
import { FaultScenario, type FaultResult, type LakeAccounting } from '../../apps/pipeline-e2e/src/faults/scenario';
import { machineInfo } from '../lib/machine';
import { cleanupOnInterrupt, runBench, writeResult } from '../lib/results';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '300' },
    'outage-seconds': { type: 'string', default: '30' },
    'restart-down-seconds': { type: 'string', default: '10' },
    faults: { type: 'string', default: FAULT_IDS.join(',') },
    partitions: { type: 'string', default: '3' },
  },
});

const log = (line: string) => process.stderr.write(`[bench:faults ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function selectedFaults(list: string): FaultId[] {
  const ids = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = ids.filter((id) => !(FAULT_IDS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`unknown faults: ${unknown.join(', ')}; known: ${FAULT_IDS.join(', ')}`);
  return ids as FaultId[];
}

const RATE = Number(args.rate);
const OUTAGE_MS = Number(args['outage-seconds']) * 1000;
const RESTART_DOWN_MS = Number(args['restart-down-seconds']) * 1000;
const FAULTS = selectedFaults(args.faults ?? '');
const PARTITIONS = Number(args.partitions);

const byFault = <T>(results: readonly FaultResult[], pick: (r: FaultResult) => T): Record<string, T> => Object.fromEntries(results.filter((r) => r.id !== 'baseline').map((r) => [r.id, pick(r)]));

function summary(results: readonly FaultResult[], a: LakeAccounting | undefined): string[] {
  const lines = results.map((r) => {
    const missed = r.expectations.filter((e) => !e.seen || !e.cleared).map((e) => `${e.seen ? 'not cleared' : 'not seen'}: ${e.what}`);
    return (
      `${r.name.padEnd(34)} ready ${String(r.ready_after_s ?? 'never').padStart(5)} s  recovered ${String(r.recovery_s ?? 'never').padStart(5)} s  lake complete ${String(r.lake_complete_after_s ?? 'never').padStart(5)} s  ` +
      `acked ${String(r.load.acked).padStart(6)}  lake ${r.lake ? `${r.lake.distinct}/${r.lake.rows}` : '-'}` +
      (missed.length > 0 ? `  MISSED ${missed.join('; ')}` : r.expectations.length > 0 ? '  fault visible and cleared' : '')
    );
  });
  if (a) lines.push(`total: acked ${a.acked}, in the lake ${a.distinct} distinct / ${a.rows} rows, lost ${a.lost}, duplicates ${a.duplicates}, unacknowledged in the lake ${a.unacknowledged_in_lake}, unknown ${a.unknown}`);
  return lines;
}

async function main(): Promise<number> {
  const machine = machineInfo();
  log(`starting the pipeline; faults: ${FAULTS.join(', ')}; ${RATE} events/s, outages ${OUTAGE_MS / 1000} s, restarts down ${RESTART_DOWN_MS / 1000} s`);
  const scenario = await FaultScenario.start({
    name: 'bench_faults',
    ratePerSec: RATE,
    partitions: PARTITIONS,
    durations: { outageMs: OUTAGE_MS, restartDownMs: RESTART_DOWN_MS },
    // Trino itself may be restarting (the stack is shared): give the lake time rather than a verdict.
    lakeTimeoutMs: 300_000,
    log,
  });
  // Starts every stopped service again and drops the run, also when the bench is interrupted.
  const close = cleanupOnInterrupt(() => scenario.close());
  const notes: string[] = [];
  let accounting: LakeAccounting | undefined;
  const started = Date.now();
  try {
    await scenario.baseline();
    for (const id of FAULTS) {
      try {
        await scenario.inject(id);
      } catch (err) {
        notes.push(`${id} failed: ${(err as Error).message.split('\n')[0]}`);
        log(`${id} failed, stopping the run: ${(err as Error).message}`);
        break;
      }
    }
    log('checking every acknowledged event_id against the lake');
    accounting = await scenario.accounting();
  } finally {
    const results = scenario.results;
    const faults = results.filter((r) => r.id !== 'baseline');
    const missed = faults.flatMap((r) => r.expectations.filter((e) => !e.seen || !e.cleared).map((e) => `${r.id}: ${e.seen ? 'not cleared' : 'not seen'}: ${e.what}`));
    notes.push(
      `Load ${RATE} events/s (load generator, batches of 20) through the collector in every phase; each fault has its own load run, stopped once the pipeline recovered.`,
      'end: the killed app restarting (right after the SIGKILL), or the stopped service answering again (stack tool up). ready_after_s: end -> every app /readyz 200 and the fault state cleared. recovery_s: end -> in addition, processor + compactor lag under the threshold (2 x fault-free p95, at least 1 s of load) with both consumers moving, for two samples. lake_complete_after_s: end -> the events table holds every event of the phase.',
      'The stack and the machine are shared: recovery times include whatever else ran (machine.load_average_at_start and _at_end).',
      ...missed.map((m) => `fault not visible or not cleared: ${m}`),
    );
    const path = writeResult({
      name: 'faults',
      machine: { ...machine, load_average_at_end: loadavg().map((l) => Math.round(l * 100) / 100) },
      metrics: {
        lost: accounting?.lost ?? null,
        duplicates: accounting?.duplicates ?? null,
        acked: accounting?.acked ?? null,
        sent: accounting?.sent ?? null,
        rows: accounting?.rows ?? null,
        distinct: accounting?.distinct ?? null,
        unacknowledged_in_lake: accounting?.unacknowledged_in_lake ?? null,
        lost_acked_before_fault: accounting?.lost_acked_before_fault ?? null,
        rate_per_sec: RATE,
        outage_s: OUTAGE_MS / 1000,
        restart_down_s: RESTART_DOWN_MS / 1000,
        run_s: Math.round((Date.now() - started) / 1000),
        faults_run: faults.length,
        faults_visible_and_cleared: faults.filter((r) => r.expectations.every((e) => e.seen && e.cleared)).length,
        recovery_s: byFault(results, (r) => r.recovery_s),
        ready_after_s: byFault(results, (r) => r.ready_after_s),
        lake_complete_after_s: byFault(results, (r) => r.lake_complete_after_s),
        fault_s: byFault(results, (r) => r.fault_s),
        by_phase: accounting?.by_phase ?? null,
      },
      ratios: {},
      targets: { lost: 0, duplicates: 0, lost_acked_before_fault: 0 },
      notes,
      series: { timelines: results.filter((r) => r.id !== 'baseline').map((r) => r.chart) },
      timeline: results.map((r) => ({
        fault: r.id,
        name: r.name,
        start: r.start,
        end: r.end,
        ready_at: r.ready_at,
        recovered_at: r.recovered_at,
        lake_complete_at: r.lake_complete_at,
        fault_s: r.fault_s,
        ready_after_s: r.ready_after_s,
        recovery_s: r.recovery_s,
        lake_complete_after_s: r.lake_complete_after_s,
        lag_threshold: r.lag_threshold,
        expectations: r.expectations,
        peaks: r.peaks,
        load: r.load,
        lake: r.lake,
        acked_before_fault: r.acked_before_fault,
        readiness: r.readiness,
      })),
    });
    for (const line of summary(results, accounting)) log(line);
    log(`wrote ${path}`);
    await close();
  }
  const failed = accounting === undefined || accounting.lost > 0 || accounting.duplicates > 0 || notes.some((n) => n.includes(' failed:') || n.startsWith('fault not visible'));
  return failed ? 1 : 0;
}

runBench(main);
