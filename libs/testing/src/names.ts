import { randomBytes } from 'node:crypto';

/** A name unique to this test run, safe for topics, groups, buckets, schemas and tables: lowercase, digits and `_`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
