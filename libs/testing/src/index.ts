export { createCleanup } from './cleanup';
export { uniqueName } from './names';
export { stackSettings, type StackSettings } from './stack';
export { waitFor, type WaitForOptions } from './wait-for';
