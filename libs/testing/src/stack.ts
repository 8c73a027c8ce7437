import { z } from 'zod';
import { kafkaFragment, loadConfig, registryFragment, s3Fragment, trinoFragment } from '@pipeline/config';

const schema = z.object({ ...kafkaFragment, ...registryFragment, ...s3Fragment, ...trinoFragment });

export type StackSettings = z.infer<typeof schema>;

/** Endpoints of the stack under test: the local stack by default, overridable with the apps' env names. */
export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  return loadConfig(schema, env);
}
