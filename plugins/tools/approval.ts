/**
 * The approval step of a call. The first `tools.hooks.approve` tap returning a decision wins; "no
 * decision" lets the call through unless the tool `needsApproval`, and then — as when nobody is
 * tapped — the call is rejected: a tool that needs approval never runs without an `'allow'`.
 */
import { ToolError } from '../../sdk/index.js';
import { messageOf } from '../../sdk/util/index.js';
import type { CallDeadlines } from './CallDeadlines.js';
import { ToolErrorCodes, toolError } from './errors.js';
import type { ToolCall } from './ToolCall.js';
import type { ApprovalRequest, ToolHooks } from './types.js';

function unapproved(call: ToolCall): ToolError {
  return toolError(
    ToolErrorCodes.REJECTED,
    `tool '${call.tool}' needs approval and no approver allowed the call by agent '${call.agentId}': tap tools.hooks.approve, or call it with { preApproved: true } once approved`,
    { tool: call.tool, agentId: call.agentId, callId: call.callId, reason: 'approval-required' },
  );
}

/** Resolves when the call may go on; rejects with TOOL_REJECTED, or TOOL_TIMEOUT / TOOL_CANCELLED while waiting. */
export async function approve(hooks: ToolHooks, call: ToolCall, needed: boolean, deadlines: CallDeadlines): Promise<void> {
  if (!hooks.approve.isUsed()) throw unapproved(call);
  const request: ApprovalRequest = {
    agentId: call.agentId,
    tool: call.tool,
    input: call.input,
    callId: call.callId,
    delegation: call.delegation,
  };
  // A human in the loop may never answer: the wait joins the deadline list like a handler does
  // (the call's timeout, the caller's signal and the bus stopping all end it).
  try {
    await call.waitFor(hooks.approve.promise(request), deadlines, 'approval');
  } catch (error) {
    if (error instanceof ToolError && (error.code === ToolErrorCodes.TIMEOUT || error.code === ToolErrorCodes.CANCELLED)) throw error;
    throw toolError(ToolErrorCodes.REJECTED, `approval of tool '${call.tool}' failed (rejected): ${messageOf(error)}`, {
      tool: call.tool,
      agentId: call.agentId,
      callId: call.callId,
    }, error);
  }
  const decision = call.decision;
  // Fail closed: only 'allow', or "no decision" for a tool that does not need approval, lets the call through.
  if (decision === undefined && needed) throw unapproved(call);
  if (decision !== undefined && decision !== 'allow') {
    throw toolError(ToolErrorCodes.REJECTED, `call of tool '${call.tool}' by agent '${call.agentId}' was not approved`, {
      tool: call.tool,
      agentId: call.agentId,
      callId: call.callId,
      decision,
    });
  }
}
