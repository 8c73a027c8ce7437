import { z } from 'zod';
import { LOCAL_STACK, baseFragment, kafkaFragment, loadConfig, registryFragment } from '@pipeline/config';

export const configSchema = z.object({
  ...baseFragment(LOCAL_STACK.apps.streamProcessor),
  ...kafkaFragment,
  ...registryFragment,
});

export type ProcessorConfig = z.infer<typeof configSchema>;

/** The only place the stream processor reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  return loadConfig(configSchema, env);
}
