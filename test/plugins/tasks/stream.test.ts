import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { setImmediate as immediate, setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { StreamError } from '../../../sdk/index.js';
import { TaskExecutor, tasksOptionsSchema } from '../../../plugins/tasks/index.js';

const executor = (): TaskExecutor => new TaskExecutor(tasksOptionsSchema.parse({}));

async function* numbers(n: number, onPull?: (i: number) => void): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    onPull?.(i);
    yield i;
  }
}

describe('stream processing', () => {
  test('runs items through function and named stages into the sink, in source order', async () => {
    const ex = executor();
    const out: number[] = [];
    const stats = await ex.stream(
      numbers(50),
      [
        (x: number) => x + 1,
        {
          name: 'jitter',
          async process(x: number) {
            if (x % 3 === 0) await delay(1);
            return x * 10;
          },
        },
      ],
      (x: number) => void out.push(x),
      { concurrency: 4 },
    );
    assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => (i + 1) * 10));
    assert.deepEqual(stats, { pulled: 50, processed: 50, dropped: 0, backpressureWaits: 0, errors: 0 });
    await ex.shutdown();
  });

  test('backpressure: a slow sink bounds how far the source is read ahead', async () => {
    const ex = executor();
    const buffer = 5;
    const concurrency = 2;
    let pulled = 0;
    let sunk = 0;
    let maxAhead = 0;
    const stats = await ex.stream(
      numbers(200, () => {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - sunk);
      }),
      [(x: number) => x],
      async () => {
        await immediate();
        sunk++;
      },
      { buffer, concurrency },
    );
    assert.equal(stats.processed, 200);
    assert.ok(stats.backpressureWaits > 0, 'the source had to wait');
    assert.ok(maxAhead <= buffer + concurrency + 2, `read ${maxAhead} items ahead of the sink`);
  });

  test('a stage error names the stage and ends the stream', async () => {
    const ex = executor();
    const sunk: number[] = [];
    await assert.rejects(
      ex.stream(
        numbers(10),
        [
          { name: 'parse', process: (x: number) => x },
          {
            name: 'validate',
            process: (x: number) => {
              if (x === 3) throw new Error('bad item 3');
              return x;
            },
          },
        ],
        (x: number) => void sunk.push(x),
      ),
      (e: StreamError) => {
        assert.ok(e instanceof StreamError);
        assert.equal(e.code, 'STREAM_STAGE_FAILED');
        assert.equal(e.context.stage, 'validate');
        assert.equal(e.context.index, 1);
        assert.match(e.message, /stage 'validate' failed: bad item 3/);
        assert.equal((e.cause as Error).message, 'bad item 3');
        const stats = e.context.stats as { pulled: number; processed: number; errors: number };
        assert.equal(stats.processed, 3);
        assert.equal(stats.errors, 1);
        assert.ok(stats.pulled >= 4);
        return true;
      },
    );
    assert.deepEqual(sunk, [0, 1, 2]);
  });

  test('a sink error is reported as the sink stage; onError skip counts errors and goes on', async () => {
    const ex = executor();
    await assert.rejects(
      ex.stream([1, 2], [], () => {
        throw new Error('disk full');
      }),
      (e: StreamError) => e.code === 'STREAM_STAGE_FAILED' && e.context.stage === 'sink',
    );
    const out: number[] = [];
    const stats = await ex.stream(
      [1, 2, 3, 4],
      [
        function even(x: number) {
          if (x % 2) throw new Error('odd');
          return x;
        },
      ],
      (x: number) => void out.push(x),
      { onError: 'skip' },
    );
    assert.deepEqual(out, [2, 4]);
    assert.equal(stats.errors, 2);
    assert.equal(stats.processed, 2);
  });

  test('overflow drop-newest and drop-oldest count what they drop; fail rejects with STREAM_OVERFLOW', async () => {
    const ex = executor();
    const slowSink = () => delay(2);
    const newest: number[] = [];
    const a = await ex.stream(numbers(50), [], async (x: number) => {
      newest.push(x);
      await slowSink();
    }, { buffer: 2, overflow: 'drop-newest' });
    assert.ok(a.dropped > 0);
    assert.equal(a.processed + a.dropped, a.pulled);
    assert.deepEqual(newest.slice(0, 3), [0, 1, 2], 'drop-newest keeps the oldest items');

    const oldest: number[] = [];
    const b = await ex.stream(numbers(50), [], async (x: number) => {
      oldest.push(x);
      await slowSink();
    }, { buffer: 2, overflow: 'drop-oldest' });
    assert.ok(b.dropped > 0);
    assert.equal(b.processed + b.dropped, b.pulled);
    assert.equal(oldest.at(-1), 49, 'drop-oldest keeps the newest items');

    await assert.rejects(ex.stream(numbers(50), [], slowSink, { buffer: 2, overflow: 'fail' }), (e: StreamError) => {
      assert.equal(e.code, 'STREAM_OVERFLOW');
      assert.equal(e.context.buffer, 2);
      return true;
    });
  });

  test('Node streams: a Readable source and a Writable sink that applies backpressure', async () => {
    const ex = executor();
    const written: string[] = [];
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk: string, _enc, done) {
        written.push(chunk);
        setTimeout(done, 1);
      },
    });
    const stats = await ex.stream(Readable.from(['a', 'b', 'c', 'd', 'e']), [(s: string) => s.toUpperCase()], sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    assert.deepEqual(written, ['A', 'B', 'C', 'D', 'E']);
    assert.equal(stats.processed, 5);
    assert.ok(stats.backpressureWaits > 0, 'waited for drain');
  });

  test('a failing Readable source is reported as the source stage', async () => {
    const ex = executor();
    const source = new Readable({
      objectMode: true,
      read() {
        this.destroy(new Error('socket closed'));
      },
    });
    await assert.rejects(ex.stream(source, [], () => {}), (e: StreamError) => e.code === 'STREAM_STAGE_FAILED' && e.context.stage === 'source');
  });

  test('cancelling rejects at once with the reason, even while the source is stuck, and aborts stage signals', async () => {
    const ex = executor();
    const ac = new AbortController();
    let stageSignal: AbortSignal | undefined;
    let stageRan!: () => void;
    const ran = new Promise<void>((resolve) => (stageRan = resolve));
    async function* stuck(): AsyncGenerator<number> {
      yield 1;
      await new Promise(() => {});
    }
    const run = ex.stream(stuck(), [
      (x: number, { signal }) => {
        stageSignal = signal;
        stageRan();
        return x;
      },
    ], () => {}, { signal: ac.signal });
    await ran; // abort once the stage has run, however slow the machine
    ac.abort(new Error('user stopped it'));
    await assert.rejects(run, /user stopped it/);
    assert.equal(stageSignal?.aborted, true);
  });

  test('shutdown refuses new streams and aborts running ones at the drain deadline', async () => {
    const ex = executor();
    let sunk!: () => void;
    const first = new Promise<void>((resolve) => (sunk = resolve));
    const endless = ex.stream(numbers(Number.MAX_SAFE_INTEGER), [], () => (sunk(), delay(1)));
    await first; // the stream is running
    await ex.shutdown({ timeoutMs: 20 });
    await assert.rejects(endless, { code: 'TASK_EXECUTOR_SHUTDOWN' });
    await assert.rejects(ex.stream([1], [], () => {}), { code: 'TASK_EXECUTOR_SHUTDOWN' });
  });

  test('bad arguments are TypeErrors and RangeErrors', async () => {
    const ex = executor();
    await assert.rejects(ex.stream(42 as never, [], () => {}), TypeError);
    await assert.rejects(ex.stream([1], [{} as never], () => {}), TypeError);
    await assert.rejects(ex.stream([1], [], {} as never), TypeError);
    await assert.rejects(ex.stream([1], [], () => {}, { concurrency: 0 }), RangeError);
    await assert.rejects(ex.stream([1], [], () => {}, { overflow: 'explode' as never }), RangeError);
  });
});
