/**
 * Cost of a resilience policy on the success path (issue 8).
 *
 * A policy with retry + circuit breaker + timeout + bulkhead around a succeeding async function,
 * against a bare `await fn()` in the same process. Target: < 1 µs extra per call (cockatiel's
 * timeout alone costs ~14 µs here because it arms an AbortController and a timer per call; the
 * SDK's `withDeadline`, which does the same, is measured as a reference).
 */
import { createPolicy } from '../plugins/resilience/index.js';
import { defineBench, type BenchRow } from './harness.js';
import { withDeadline } from '../sdk/util/index.js';

const N = 500_000;
const ROUNDS = 5;

async function nsPerOp(n: number, op: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  for (let i = 0; i < n; i++) await op();
  return ((performance.now() - began) * 1e6) / n;
}

/** Best of ROUNDS for each case, interleaved so that noise on a shared machine hits all alike. */
async function measure(cases: Record<string, () => Promise<unknown>>, n = N): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (const op of Object.values(cases)) await nsPerOp(Math.min(n, 50_000), op);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, op] of Object.entries(cases)) best[name] = Math.min(best[name] ?? Infinity, await nsPerOp(n, op));
  }
  return best;
}

export default defineBench({
  name: 'resilience',
  async run() {
    const fn = async (): Promise<number> => 1;
    const full = { retry: {}, timeoutMs: 30_000, circuitBreaker: {}, bulkhead: { maxConcurrent: 100, maxQueue: 100 } };
    const policy = createPolicy({ name: 'bench', ...full });
    const signalReader = createPolicy({ name: 'bench-signal', ...full });
    const withCaller = createPolicy({ name: 'bench-caller', ...full });
    const caller = new AbortController().signal;
    const t = await measure({
      bare: () => fn(),
      policy: () => policy.execute(fn),
      readsSignal: () => signalReader.execute((ctx) => (ctx.signal.aborted ? 0 : fn())),
      callerSignal: () => withCaller.execute(fn, { signal: caller }),
    });
    const deadline = await measure({ bare: () => fn(), withDeadline: () => withDeadline(fn, { timeoutMs: 30_000 }) }, 100_000);
    for (const p of [policy, signalReader, withCaller]) p.dispose();
    const overhead = t.policy! - t.bare!;
    const rows: BenchRow[] = [
      {
        case: 'policy (retry+breaker+timeout+bulkhead), succeeding call',
        value: t.policy!,
        unit: 'ns/op',
        baseline: t.bare!,
        baselineName: 'bare await fn()',
        ratio: t.policy! / t.bare!,
      },
      {
        case: 'policy overhead per call (policy − bare)',
        value: overhead,
        unit: 'ns',
        baseline: t.bare!,
        baselineName: 'bare await fn()',
        target: '< 1000 ns extra',
        pass: overhead < 1000,
      },
      {
        case: 'same, callee reads ctx.signal (lazy AbortController)',
        value: t.readsSignal!,
        unit: 'ns/op',
        baseline: t.bare!,
        baselineName: 'bare await fn()',
        ratio: t.readsSignal! / t.bare!,
      },
      {
        case: 'same, with a caller AbortSignal',
        value: t.callerSignal!,
        unit: 'ns/op',
        baseline: t.bare!,
        baselineName: 'bare await fn()',
        ratio: t.callerSignal! / t.bare!,
      },
      {
        case: 'reference: AbortController + timer per call (sdk withDeadline)',
        value: deadline.withDeadline!,
        unit: 'ns/op',
        baseline: deadline.bare!,
        baselineName: 'bare await fn()',
        ratio: deadline.withDeadline! / deadline.bare!,
      },
    ];
    return rows;
  },
});
