import { ensureTools } from './toolchain';

/** Jest globalSetup: one process installs the tools before the test workers start. */
export default function globalSetup(): void {
  ensureTools();
}
