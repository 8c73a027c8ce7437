import { z } from 'zod';
import { LOCAL_STACK, baseFragment, kafkaFragment, loadConfig, s3Fragment, trinoFragment } from '@pipeline/config';

export const configSchema = z.object({
  ...baseFragment(LOCAL_STACK.apps.compactor),
  ...kafkaFragment,
  ...s3Fragment,
  ...trinoFragment,
});

export type CompactorConfig = z.infer<typeof configSchema>;

/** The only place the compactor reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): CompactorConfig {
  return loadConfig(configSchema, env);
}
