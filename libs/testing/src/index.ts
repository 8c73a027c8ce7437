export { createCleanup } from './cleanup';
export { uniqueName } from './names';
export { stackSettings, type StackSettings } from './stack';
export { waitFor, type WaitForOptions } from './wait-for';
export { PIPELINE_APPS, Pipeline, pipelineNames, type PipelineApp, type PipelineNames, type PipelineOptions } from './pipeline';
export { freePort, metricValue, NodeProcess, rssMb, type ExitStatus, type NodeProcessOptions } from './processes';
export { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium';
