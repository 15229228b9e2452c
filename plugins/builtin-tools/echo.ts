/** `echo`: returns its input. The original system's first tool; handy to check grants and wiring. */
import { z } from '../../sdk/index.js';
import type { ToolDefinition } from '../tools/types.js';

const message = z.object({ message: z.string() });

export const echoTool: ToolDefinition<typeof message, typeof message> = {
  name: 'echo',
  description: 'Returns the message it was given.',
  input: message,
  output: message,
  handler: (input) => input,
};
