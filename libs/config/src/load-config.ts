import { z } from 'zod';

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Thrown by {@link loadConfig}; lists every problem, never a value. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` (normally process.env, read only in each app's config.ts) with `schema`.
 * Throws a {@link ConfigError} naming every bad field by its env name; values are never echoed.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      path: issue.path.join('.') || '(root)',
      // zod messages may quote the received value; keep only the expectation.
      message: issue.message.replace(/, received .*$/i, ''),
    })),
  );
}

/** A boolean from the environment: only "true"/"1"/"yes" and "false"/"0"/"no" (z.coerce.boolean turns "false" into true). */
export function envBoolean(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

/** A whole number from the environment within [min, max]. */
export function envInt(defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** A comma-separated list from the environment. */
export function envList(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
}
