import { z } from 'zod';
import { LOCAL_STACK, baseFragment, kafkaFragment, loadConfig } from '@pipeline/config';

export const configSchema = z.object({
  ...baseFragment(LOCAL_STACK.apps.producer),
  ...kafkaFragment,
});

export type ProducerConfig = z.infer<typeof configSchema>;

/** The only place the collector reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ProducerConfig {
  return loadConfig(configSchema, env);
}
