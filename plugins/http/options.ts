import { z } from '../../sdk/index.js';

/** Options of the http plugin; `{}` validates and gives a loopback server on an ephemeral port. */
export const HttpOptionsSchema = z.object({
  /** Interface to bind. Loopback by default: exposing the server is a deliberate choice. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; read the result from `http.url`. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Largest request body accepted; larger bodies get 413 before the handler runs. */
  bodyLimitBytes: z.number().int().positive().default(1_048_576),
  /**
   * Time from the request's arrival to the end of its response. A body still arriving then gets
   * 408; a handler still working gets 503 and its `signal` aborts.
   */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * On stop, how long in-flight requests may take to finish before their sockets are destroyed.
   * The kernel's stop deadline cuts this short when it comes first.
   */
  closeGraceMs: z.number().int().nonnegative().default(10_000),
  /** Bearer-token auth; off unless a token is given here or through `tokenEnv`. */
  auth: z
    .object({
      /** The token clients send as `Authorization: Bearer <token>`. */
      token: z.string().min(1).optional(),
      /** Name of an environment variable holding the token (keeps secrets out of config files). */
      tokenEnv: z.string().min(1).optional(),
    })
    .prefault({}),
});

export type HttpOptions = z.output<typeof HttpOptionsSchema>;
