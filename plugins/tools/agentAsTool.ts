/**
 * Exposes an actor as a tool: a call becomes `ref.ask({ input, caller, callId, delegation })` (plus
 * `traceparent` when the call is traced) under the call's deadline and signal, and the actor's
 * reply is the tool's result.
 *
 * Delegation: the message carries the chain `[...caller's chain, caller]`; tool calls the actor
 * makes with `{ delegation: message.delegation }` are checked against every agent of that chain as
 * well as the actor's own id, so a callee never gets more rights than its caller. The chain travels
 * only in the message: there is no ambient (async-context) chain, because an actor serving several
 * callers would run one caller's request in another's context.
 */
import type { z } from 'zod';
import type { Disposer } from '../../sdk/index.js';
import type { ActorRef } from '../actors/types.js';
import { ToolErrorCodes, toolError } from './errors.js';
import type { AgentToolSpec, ToolBus, ToolCallMessage, ToolContext } from './types.js';

/** The actors plugin's code for an ask that got no reply in time (a string, to keep the import rule). */
const ASK_TIMEOUT = 'ACTOR_ASK_TIMEOUT';

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
      const traceparent = ctx.traceparent;
      const message: ToolCallMessage<z.output<I>> = Object.freeze(
        traceparent === undefined ? { input, caller: ctx.agentId, callId: ctx.callId, delegation } : { input, caller: ctx.agentId, callId: ctx.callId, delegation, traceparent },
      );
      const asked = ref.ask(message, { signal: ctx.signal, ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }) });
      // The ask's own timeout and the call's deadline are the same number and race; either way the
      // caller sees TOOL_TIMEOUT.
      return asked.catch((error: unknown) => {
        if ((error as { code?: unknown })?.code === ASK_TIMEOUT) {
          throw toolError(ToolErrorCodes.TIMEOUT, `agent tool '${spec.name}' got no reply within ${spec.timeoutMs} ms`, {
            tool: spec.name,
            agentId: ctx.agentId,
            callId: ctx.callId,
            timeoutMs: spec.timeoutMs,
          }, error);
        }
        throw error;
      });
    },
  });
}
