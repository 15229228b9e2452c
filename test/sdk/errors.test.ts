import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { test } from 'node:test';
import {
  ActorError,
  AgentError,
  CancelledError,
  classify,
  ConfigError,
  ERROR_KIND_DEFAULTS,
  EventError,
  KernelError,
  MisterSmithError,
  NetworkError,
  PersistenceError,
  ResilienceError,
  ResourceError,
  StreamError,
  SupervisionError,
  TaskError,
  TimeoutError,
  toError,
  ToolError,
  z,
} from '../../index.js';

test('MisterSmithError carries code, kind, severity, retryable, retryAfterMs, cause and context', () => {
  const cause = new Error('root');
  const e = new ResourceError('POOL_EXHAUSTED', 'pool exhausted', { retryAfterMs: 250, cause, context: { pool: 'db' } });
  assert.ok(e instanceof MisterSmithError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'ResourceError');
  assert.equal(e.code, 'POOL_EXHAUSTED');
  assert.equal(e.kind, 'resource');
  assert.equal(e.severity, 'medium');
  assert.equal(e.retryable, true);
  assert.equal(e.retryAfterMs, 250);
  assert.equal(e.cause, cause);
  assert.deepEqual(e.context, { pool: 'db' });
  assert.deepEqual(e.toJSON(), {
    name: 'ResourceError', code: 'POOL_EXHAUSTED', kind: 'resource', severity: 'medium', retryable: true,
    message: 'pool exhausted', retryAfterMs: 250, context: { pool: 'db' },
  });
  const overridden = new ActorError('ACTOR_CRASHED', 'x', { severity: 'critical', retryable: true });
  assert.equal(overridden.severity, 'critical');
  assert.equal(overridden.retryable, true);
});

test('each subclass has its kind and the seed table defaults', () => {
  const cases: Array<[MisterSmithError, string, string]> = [
    [new KernelError('K', 'm'), 'runtime', 'critical'],
    [new SupervisionError('S', 'm'), 'supervision', 'high'],
    [new ConfigError('C', 'm'), 'configuration', 'medium'],
    [new ResourceError('R', 'm'), 'resource', 'medium'],
    [new NetworkError('N', 'm'), 'network', 'low'],
    [new PersistenceError('P', 'm'), 'persistence', 'high'],
    [new ActorError('A', 'm'), 'actor', 'medium'],
    [new StreamError('S', 'm'), 'stream', 'medium'],
    [new TaskError('T', 'm'), 'task', 'low'],
    [new EventError('E', 'm'), 'event', 'low'],
    [new ToolError('T', 'm'), 'tool', 'low'],
    [new ResilienceError('R', 'm'), 'resilience', 'medium'],
    [new AgentError('A', 'm'), 'agent', 'medium'],
    [new CancelledError(), 'cancelled', 'low'],
  ];
  for (const [error, kind, severity] of cases) {
    assert.equal(error.kind, kind, error.name);
    assert.equal(error.severity, severity, error.name);
    assert.equal(error.name, error.constructor.name);
  }
  assert.deepEqual(ERROR_KIND_DEFAULTS.runtime.recovery, { action: 'restart' });
  assert.deepEqual(ERROR_KIND_DEFAULTS.supervision.recovery, { action: 'escalate' });
  assert.deepEqual(ERROR_KIND_DEFAULTS.network.recovery, { action: 'circuit-breaker' });
  assert.deepEqual(ERROR_KIND_DEFAULTS.resource.recovery, { action: 'retry', maxAttempts: 3, delayMs: 1000 });
});

test('ConfigError lists its problems in the message', () => {
  const e = new ConfigError('CONFIG_INVALID', 'invalid configuration (2 problems):', ['a: x', 'b: y']);
  assert.deepEqual(e.problems, ['a: x', 'b: y']);
  assert.equal(e.message, 'invalid configuration (2 problems):\n  - a: x\n  - b: y');
});

test('TimeoutError and CancelledError have stable codes', () => {
  const t = new TimeoutError('too slow');
  assert.equal(t.code, 'TIMEOUT');
  assert.equal(t.retryable, true);
  assert.equal(new TimeoutError('x', { code: 'TOOL_TIMEOUT' }).code, 'TOOL_TIMEOUT');
  assert.equal(new CancelledError().code, 'CANCELLED');
  assert.equal(new CancelledError().message, 'operation cancelled');
});

test('classify keeps what a MisterSmithError says about itself', () => {
  const c = classify(new ToolError('TOOL_ACCESS_DENIED', 'denied', { retryAfterMs: 5 }));
  assert.deepEqual(c, {
    code: 'TOOL_ACCESS_DENIED', kind: 'tool', severity: 'low', retryable: false, retryAfterMs: 5,
    recovery: ERROR_KIND_DEFAULTS.tool.recovery, message: 'denied',
  });
});

test('classify maps a real ECONNRESET/ECONNREFUSED to a retryable low-severity network error', async () => {
  const synthetic = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
  const c = classify(synthetic);
  assert.equal(c.code, 'ECONNRESET');
  assert.equal(c.kind, 'network');
  assert.equal(c.severity, 'low');
  assert.equal(c.retryable, true);
  assert.deepEqual(c.recovery, { action: 'circuit-breaker' });
  // A refused connection to a loopback port nobody listens on: a genuine Node system error.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = await new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').on('error', resolve));
  assert.equal(classify(refused).code, 'ECONNREFUSED');
  assert.equal(classify(refused).kind, 'network');
  assert.equal(classify(refused).retryable, true);
});

test('classify maps ENOENT to a persistence error that retrying will not fix', async () => {
  const error = await readFile('/definitely/not/here/mister-smith').catch((e: unknown) => e);
  const c = classify(error);
  assert.equal(c.code, 'ENOENT');
  assert.equal(c.kind, 'persistence');
  assert.equal(c.severity, 'high');
  assert.equal(c.retryable, false);
  assert.match(c.message, /no such file/);
});

test('classify maps EMFILE to a retryable resource error', () => {
  const c = classify(Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE', syscall: 'open' }));
  assert.equal(c.code, 'EMFILE');
  assert.equal(c.kind, 'resource');
  assert.equal(c.severity, 'medium');
  assert.equal(c.retryable, true);
});

test('classify maps an AbortError to cancelled', () => {
  const controller = new AbortController();
  controller.abort();
  const c = classify(controller.signal.reason);
  assert.equal(c.kind, 'cancelled');
  assert.equal(c.code, 'CANCELLED');
  assert.equal(c.severity, 'low');
  assert.equal(c.retryable, false);
  assert.equal(classify(new DOMException('stopped', 'AbortError')).kind, 'cancelled');
  assert.equal(classify(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' })).kind, 'cancelled');
});

test('classify maps a DOM TimeoutError (AbortSignal.timeout) to a retryable timeout', async () => {
  const signal = AbortSignal.timeout(1);
  // AbortSignal.timeout's timer is unref'd: alone it does not keep the event loop alive, and on a
  // loaded machine the test would end as "Promise resolution is still pending". Hold the loop open.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    clearInterval(keepAlive);
  }
  const c = classify(signal.reason);
  assert.equal(c.code, 'TIMEOUT');
  assert.equal(c.retryable, true);
});

test('classify maps zod errors to a configuration validation failure', () => {
  const parsed = z.object({ n: z.number() }).safeParse({ n: 'x' });
  assert.equal(parsed.success, false);
  const c = classify(parsed.error);
  assert.equal(c.code, 'VALIDATION_FAILED');
  assert.equal(c.kind, 'configuration');
  assert.equal(c.retryable, false);
  let thrown: unknown;
  try {
    z.string().parse(1);
  } catch (error) {
    thrown = error;
  }
  assert.equal(classify(thrown).kind, 'configuration');
});

test('classify handles strings, plain objects, null and undefined', () => {
  const s = classify('something broke');
  assert.equal(s.kind, 'unknown');
  assert.equal(s.code, 'UNKNOWN');
  assert.equal(s.severity, 'high');
  assert.equal(s.message, 'something broke');
  assert.equal(classify({ reason: 'x' }).message, '{"reason":"x"}');
  assert.equal(classify(null).kind, 'unknown');
  assert.equal(classify(undefined).kind, 'unknown');
  assert.equal(classify(new TypeError('bad')).message, 'bad');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(classify(circular).kind, 'unknown');
  assert.equal(classify({ code: 'ECONNRESET', message: 'plain object' }).kind, 'network');
});

test('toError keeps Errors and wraps anything else, keeping what was thrown', () => {
  const e = new Error('x');
  assert.equal(toError(e), e);
  const wrapped = toError('a string') as Error & { thrown?: unknown };
  assert.ok(wrapped instanceof Error);
  assert.equal(wrapped.message, 'a string');
  assert.equal(wrapped.thrown, 'a string');
  assert.equal(toError(42).message, '42');
});
