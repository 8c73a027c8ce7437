export { baseFragment, kafkaFragment, registryFragment, s3Fragment, trinoFragment } from './fragments';
export { ConfigError, envBoolean, envInt, envList, loadConfig, type ConfigProblem } from './load-config';
export { LOCAL_STACK, LOCAL_URLS, localStackStateDir } from './local-stack';
