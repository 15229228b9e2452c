/** `mister-smith`: the kernel and the SDK in one import. */
export * from './sdk/index.js';
export * from './kernel/index.js';
