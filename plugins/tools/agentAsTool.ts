/**
 * Exposes an actor as a tool: a call becomes `ref.ask({ input, caller, callId, delegation })`
 * under the call's deadline and signal, and the actor's reply is the tool's result.
 *
 * Delegation: the `ask` runs in an async scope holding the chain `[...caller's chain, caller]`, and
 * the same chain is in the message. Tool calls the actor makes while handling it are checked
 * against every agent of that chain as well as the actor's own id, so a callee never gets more
 * rights than its caller: from the scope when the actor system runs `receive` in the sender's async
 * context, and always when the actor passes `{ delegation: message.delegation }`.
 */
import type { z } from 'zod';
import type { Disposer } from '../../sdk/index.js';
import type { ActorRef } from '../actors/types.js';
import { runDelegated } from './delegation.js';
import type { AgentToolSpec, ToolBus, ToolCallMessage, ToolContext } from './types.js';

/** Registers `ref` as the tool `spec.name` on `bus`; the disposer unregisters it. */
export function agentAsTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(
  bus: Pick<ToolBus, 'register'>,
  ref: ActorRef<ToolCallMessage<z.output<I>>, z.input<O>>,
  spec: AgentToolSpec<I, O>,
): Disposer {
  return bus.register<I, O>({
    name: spec.name,
    description: spec.description,
    input: spec.input,
    ...(spec.output === undefined ? {} : { output: spec.output }),
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    ...(spec.policy === undefined ? {} : { policy: spec.policy }),
    handler(input: z.output<I>, ctx: ToolContext) {
      const delegation = Object.freeze([...ctx.delegation, ctx.agentId]);
      const message: ToolCallMessage<z.output<I>> = Object.freeze({ input, caller: ctx.agentId, callId: ctx.callId, delegation });
      return runDelegated(delegation, () =>
        ref.ask(message, { signal: ctx.signal, ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }) }),
      );
    },
  });
}
