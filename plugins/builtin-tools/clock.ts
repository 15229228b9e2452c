/** `clock.now`: the current time, for agents that have no other way to know it. */
import { z } from '../../sdk/index.js';
import type { ToolDefinition } from '../tools/types.js';

const input = z.object({});
const output = z.object({ iso: z.string(), epochMs: z.number().int() });

export const clockTool: ToolDefinition<typeof input, typeof output> = {
  name: 'clock.now',
  description: 'Returns the current time as an ISO-8601 string (UTC) and as epoch milliseconds.',
  input,
  output,
  handler: () => {
    const epochMs = Date.now();
    return { iso: new Date(epochMs).toISOString(), epochMs };
  },
};
