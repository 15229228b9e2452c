import { ConfigError, toError, z } from '../../sdk/index.js';
import { AgentErrorCodes } from './errors.js';
import type { ParsedAgentDefinition } from './options.js';
import type { AgentEntry } from './RunHandle.js';

/** Structured output: a validator from the agent's schema (zod in code, JSON Schema in config). */
export function validatorFor(def: ParsedAgentDefinition): AgentEntry['validate'] {
  const output = def.output;
  if (output === undefined) return undefined;
  let schema: z.ZodType;
  if (typeof (output as { safeParse?: unknown }).safeParse === 'function') schema = output as z.ZodType;
  else {
    try {
      schema = z.fromJSONSchema(output as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      throw new ConfigError(AgentErrorCodes.AGENT_INVALID_DEFINITION, `agent '${def.name}': output is not a usable JSON Schema`, [toError(error).message], { context: { agent: def.name } });
    }
  }
  return (reply) => {
    let value: unknown;
    try {
      value = JSON.parse(reply.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
    } catch (error) {
      return { ok: false, error: `not JSON (${toError(error).message})` };
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return { ok: true, value: parsed.data };
    return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  };
}
