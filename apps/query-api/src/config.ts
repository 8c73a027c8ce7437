import { z } from 'zod';
import { LOCAL_STACK, baseFragment, loadConfig, trinoFragment } from '@pipeline/config';

export const configSchema = z.object({
  ...baseFragment(LOCAL_STACK.apps.queryApi),
  ...trinoFragment,
});

export type QueryApiConfig = z.infer<typeof configSchema>;

/** The only place the query API reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): QueryApiConfig {
  return loadConfig(configSchema, env);
}
