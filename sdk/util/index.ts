/**
 * `mister-smith/sdk/util`: the internal helper tier every part of Mister Smith shares — one
 * implementation of each. Plugin authors may use it, but it is not the plugin contract
 * (`mister-smith/sdk` is); these helpers may change shape between minor versions.
 */
export { DeadlineWheel, resolutionFor } from './DeadlineWheel.js';
export type { DeadlineEntry } from './DeadlineWheel.js';
export { abortReason, anySignal, backoffDelay, DEFAULT_BACKOFF, drainBudget, sleep, withDeadline } from './async.js';
export type { BackoffOptions, DeadlineOptions } from './async.js';
export { isThenable } from './isThenable.js';
export { messageOf } from './messageOf.js';
export { noop } from './noop.js';
export { RingBuffer } from './RingBuffer.js';
export { httpStatusError, isRetryableStatus, readErrorBody, retryAfterMs } from './httpErrors.js';
export { completeFrom, streamFrom } from './modelAnswer.js';
export type { AnswerChunk, AnswerReader } from './modelAnswer.js';
export { openRequest } from './openRequest.js';
export type { OpenRequest, OpenRequestOptions } from './openRequest.js';
export { readSse } from './readSse.js';
export type { SseEvent } from './readSse.js';
export { formatTraceparent, isTraceparent, parseTraceparent, replaceTraceContext, TRACEPARENT_PROBLEM } from './traceparent.js';
export type { TraceParent } from './traceparent.js';
