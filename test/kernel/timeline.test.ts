import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin } from '../../index.js';
import { createTestKernel } from '../../testing/index.js';
import { capturingLogger, kernelOf, recorder } from './fixtures/util.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the timeline lists setup, start and stop per plugin with durations', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log, { onStart: () => sleep(20) }), recorder('b', log, { onStop: () => sleep(10) })] });
  assert.deepEqual(kernel.timeline(), []);
  await kernel.start();
  assert.deepEqual(kernel.timeline().map((r) => `${r.plugin}:${r.phase}`), ['a:setup', 'b:setup', 'a:start', 'b:start']);
  await kernel.stop();
  const records = kernel.timeline();
  assert.deepEqual(records.map((r) => `${r.plugin}:${r.phase}`), ['a:setup', 'b:setup', 'a:start', 'b:start', 'b:stop', 'a:stop']);
  for (const r of records) {
    assert.equal(typeof r.durationMs, 'number');
    assert.ok(r.durationMs >= 0);
    assert.equal(r.error, undefined);
  }
  assert.ok(records.find((r) => r.plugin === 'a' && r.phase === 'start')!.durationMs >= 15);
  assert.ok(records.find((r) => r.plugin === 'b' && r.phase === 'stop')!.durationMs >= 5);
});

test('the timeline records errors of failed phases', async () => {
  const kernel = await kernelOf({
    shutdownTimeoutMs: 1000,
    plugins: [recorder('ok', [], { onStop: () => Promise.reject(new Error('stop broke')) }), recorder('bad', [], { onStart: () => Promise.reject(new Error('start broke')) })],
  });
  await assert.rejects(kernel.start());
  assert.deepEqual(
    kernel.timeline().map((r) => [r.plugin, r.phase, r.error]),
    [
      ['ok', 'setup', undefined],
      ['bad', 'setup', undefined],
      ['ok', 'start', undefined],
      ['bad', 'start', 'start broke'],
      ['ok', 'stop', 'stop broke'],
    ],
  );
});

test('the timeline is exported as the kernel_phase_duration_seconds gauge', async (t) => {
  const kernel = await createTestKernel({ plugins: [recorder('a', []), recorder('b', [])], test: t });
  const m = kernel.recordedMetrics;
  assert.ok(m.names().includes('kernel_phase_duration_seconds'));
  assert.deepEqual(
    m.series('kernel_phase_duration_seconds').map((l) => `${l.plugin}:${l.phase}`).sort(),
    ['a:setup', 'a:start', 'b:setup', 'b:start'],
  );
  const start = kernel.timeline().find((r) => r.plugin === 'a' && r.phase === 'start')!;
  assert.equal(m.value('kernel_phase_duration_seconds', { plugin: 'a', phase: 'start' }), start.durationMs / 1000);
  await kernel.stop();
  assert.equal(m.series('kernel_phase_duration_seconds').length, 6);
});

test('a failed start still exports its timeline', async () => {
  const kernel = await createTestKernel({ plugins: [recorder('bad', [], { onStart: () => Promise.reject(new Error('no')) })], start: false });
  await assert.rejects(kernel.start());
  assert.ok(kernel.recordedMetrics.series('kernel_phase_duration_seconds').some((l) => l.plugin === 'bad' && l.phase === 'start'));
});

test('start and stop each log one summary of the timeline', async () => {
  const { logger, lines } = capturingLogger();
  const p = definePlugin({ name: 'p', version: '1.0.0', setup: (ctx) => ctx.onStart(() => {}) });
  const kernel = await kernelOf({ plugins: [p] }, logger);
  await kernel.start();
  await kernel.stop();
  const started = lines.find((l) => /^started 1 plugin/.test(String(l.msg)))!;
  assert.deepEqual(Object.keys((started.timeline as Record<string, unknown>).p as object).sort(), ['setup', 'start']);
  const stopped = lines.find((l) => l.msg === 'stopped')!;
  assert.deepEqual(Object.keys((stopped.timeline as Record<string, unknown>).p as object), ['stop']);
});

test('plugin logs are children bound to { plugin: name }', async () => {
  const { logger, lines } = capturingLogger();
  const p = definePlugin({ name: 'chatty', version: '1.0.0', setup: (ctx) => ctx.logger.info({ x: 1 }, 'hello from a plugin') });
  const kernel = await kernelOf({ plugins: [p] }, logger);
  await kernel.start();
  await kernel.stop();
  const line = lines.find((l) => l.msg === 'hello from a plugin')!;
  assert.equal(line.plugin, 'chatty');
  assert.equal(line.x, 1);
});
