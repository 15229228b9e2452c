/** `mister-smith/testing`: the kit to test plugins, built-in or third-party, in a real kernel. */
export { createTestKernel } from './createTestKernel.js';
export type { TestContextLike, TestKernel, TestKernelOptions } from './createTestKernel.js';
export { checkPluginConformance, ConformanceError } from './checkPluginConformance.js';
export type { ConformanceOptions, ConformanceReport } from './checkPluginConformance.js';
export { MemoryMetricsBackend } from './MemoryMetricsBackend.js';
export { TestingErrorCodes } from './errors.js';
