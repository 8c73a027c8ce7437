/** Named readiness checks; ready only when every check is up and shutdown has not begun. */
export class Readiness {
  private readonly checks = new Map<string, { ok: boolean; detail?: string }>();
  private shuttingDown = false;

  /** Declares a check as not yet ready. */
  register(name: string): this {
    if (!this.checks.has(name)) this.checks.set(name, { ok: false, detail: 'starting' });
    return this;
  }

  set(name: string, ok: boolean, detail?: string): void {
    this.checks.set(name, detail === undefined ? { ok } : { ok, detail });
  }

  /** Readiness turns false the moment shutdown starts and stays false. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  get ready(): boolean {
    if (this.shuttingDown) return false;
    for (const check of this.checks.values()) if (!check.ok) return false;
    return true;
  }

  report(): { ready: boolean; shuttingDown: boolean; checks: Record<string, { ok: boolean; detail?: string }> } {
    return { ready: this.ready, shuttingDown: this.shuttingDown, checks: Object.fromEntries(this.checks) };
  }
}
