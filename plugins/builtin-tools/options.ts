/** Options of the builtin-tools plugin: which built-ins are on and their limits. `{}` validates. */
import { z } from '../../sdk/index.js';

export const builtinToolsOptions = z.object({
  /** Register `echo`. */
  echo: z.boolean().default(true),
  /** Register `clock.now`. */
  clock: z.boolean().default(true),
  fs: z
    .object({
      /** Register `fs.read`, `fs.write`, `fs.list` (agents still need grants to call them). */
      enabled: z.boolean().default(true),
      /** The folder the fs tools are confined to, relative to the config file. */
      root: z.string().min(1).default('.'),
      /** Largest file read or written, in bytes (1 MiB). */
      maxBytes: z.number().int().positive().default(1_048_576),
    })
    .prefault({}),
  http: z
    .object({
      /** Register `http.fetch` (it refuses every host until `allowHosts` names some). */
      enabled: z.boolean().default(true),
      /** `host` or `host:port`, matched exactly against the URL's host. */
      allowHosts: z.array(z.string().min(1)).default([]),
      /** Deadline of one fetch, redirects included (ms). */
      timeoutMs: z.number().int().positive().default(10_000),
      /** Largest response body, in bytes (1 MiB). */
      maxBytes: z.number().int().positive().default(1_048_576),
    })
    .prefault({}),
});

export type BuiltinToolsOptions = z.output<typeof builtinToolsOptions>;
