/** The http plugin: one node:http server for every plugin's routes. */
import { ConfigError, definePlugin } from '../../sdk/index.js';
import { HTTP_ERROR_CODES } from './errors.js';
import { HttpServer } from './HttpServer.js';
import { HttpOptionsSchema, type HttpOptions } from './options.js';

/** The token from `auth.tokenEnv` (when that variable is set) or `auth.token`; undefined means auth is off. */
function resolveToken(auth: HttpOptions['auth']): string | undefined {
  if (auth.tokenEnv !== undefined) {
    const fromEnv = process.env[auth.tokenEnv];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (auth.token === undefined) {
      // Failing here beats serving without the auth the operator asked for.
      throw new ConfigError(
        HTTP_ERROR_CODES.HTTP_AUTH_TOKEN_MISSING,
        `http: auth.tokenEnv names '${auth.tokenEnv}', but that environment variable is not set; set it or remove auth.tokenEnv`,
      );
    }
  }
  return auth.token;
}

export default definePlugin({
  name: 'http',
  version: '1.0.0',
  description: 'One node:http server for the routes of every plugin (loopback and an ephemeral port by default)',
  options: HttpOptionsSchema,
  setup(ctx) {
    const server = new HttpServer(ctx.options, { logger: ctx.logger, metrics: ctx.metrics, token: resolveToken(ctx.options.auth) });
    ctx.provide('http', server);
    ctx.onStart(async () => {
      const url = await server.listen();
      ctx.logger.info({ url, auth: server.authEnabled }, `http listening on ${url}`);
    });
    ctx.onStop((signal, { deadline }) => server.close(signal, deadline));
  },
});

export { HTTP_ERROR_CODES, HttpError, HttpRouteError } from './errors.js';
export { HttpServer } from './HttpServer.js';
export type { HttpServerDeps } from './HttpServer.js';
export { HttpOptionsSchema } from './options.js';
export type { HttpOptions } from './options.js';
export { HTTP_METHODS, Router } from './Router.js';
export type { Route, RouteMatch } from './Router.js';
export type { HttpExchangeRecord, HttpHooks, HttpMethod, HttpReply, HttpRequest, HttpService, RouteHandler, RouteOptions } from './types.js';
