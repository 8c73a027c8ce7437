/**
 * What the load generator was told: which event_ids were acknowledged (a bitmap per load run, since
 * the mix numbers ids `<runId>-<n>` from 0), how many were sent, and a sample of acknowledgement
 * times ("markers", at most one per `markerEveryMs`) to check received_at against the 2xx.
 */
import type { LoadAck } from '../../apps/producer/src/loadgen/runner';

export interface Marker {
  eventId: string;
  ackedAtMs: number;
  latencyMs: number;
}

interface RunLedger {
  bits: Uint8Array;
  acked: number;
  sent: number;
}

export class AckLedger {
  private readonly runs = new Map<string, RunLedger>();
  readonly markers: Marker[] = [];
  private nextMarkerAt = 0;
  acked = 0;

  constructor(private readonly markerEveryMs = 1_000) {}

  /** The `onAck` hook for runLoad. */
  readonly onAck = (ack: LoadAck): void => {
    for (const id of ack.eventIds) {
      const dash = id.lastIndexOf('-');
      const runId = id.slice(0, dash);
      const seq = Number(id.slice(dash + 1));
      const run = this.run(runId);
      if (seq >= run.bits.length * 8) {
        const grown = new Uint8Array(Math.max(run.bits.length * 2, Math.ceil((seq + 1) / 8)));
        grown.set(run.bits);
        run.bits = grown;
      }
      const byte = seq >> 3;
      const bit = 1 << (seq & 7);
      if (((run.bits[byte] as number) & bit) === 0) {
        run.bits[byte] = (run.bits[byte] as number) | bit;
        run.acked++;
        this.acked++;
      }
    }
    if (ack.ackedAtMs >= this.nextMarkerAt && ack.eventIds.length > 0) {
      this.markers.push({ eventId: ack.eventIds[0] as string, ackedAtMs: ack.ackedAtMs, latencyMs: ack.latencyMs });
      this.nextMarkerAt = ack.ackedAtMs + this.markerEveryMs;
    }
  };

  /** Records how many events a finished run sent (ids 0 .. sent-1). */
  finish(runId: string, sent: number): void {
    this.run(runId).sent = sent;
  }

  get sent(): number {
    let n = 0;
    for (const run of this.runs.values()) n += run.sent;
    return n;
  }

  /** Ids that were sent but never acknowledged (rejected, failed, or answered after the client gave up). */
  unacknowledged(): string[] {
    const out: string[] = [];
    for (const [runId, run] of this.runs) {
      for (let seq = 0; seq < run.sent; seq++) if ((((run.bits[seq >> 3] ?? 0) >> (seq & 7)) & 1) === 0) out.push(`${runId}-${seq}`);
    }
    return out;
  }

  private run(runId: string): RunLedger {
    let run = this.runs.get(runId);
    if (!run) {
      run = { bits: new Uint8Array(1024), acked: 0, sent: 0 };
      this.runs.set(runId, run);
    }
    return run;
  }
}
