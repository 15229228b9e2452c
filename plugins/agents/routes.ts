/**
 * The agents' HTTP API on the http plugin: list agents and runs, start a run, read one (with its
 * records as Server-Sent Events, from the first record, live until the run ends), decide an
 * approval, cancel.
 */
import { MisterSmithError, z } from '../../sdk/index.js';
import { isTraceparent } from '../../sdk/util/index.js';
import type { HttpReply, HttpRequest, HttpService } from '../http/types.js';
import type { AgentService } from './AgentService.js';
import { AgentErrorCodes } from './errors.js';
import type { RunStatus } from './types.js';

const STATUS_BY_CODE: Record<string, number> = {
  [AgentErrorCodes.AGENT_NOT_FOUND]: 404,
  [AgentErrorCodes.AGENT_RUN_NOT_FOUND]: 404,
  [AgentErrorCodes.AGENT_BUSY]: 429,
  [AgentErrorCodes.AGENT_APPROVAL_NOT_PENDING]: 409,
  [AgentErrorCodes.AGENT_BAD_INPUT]: 400,
  [AgentErrorCodes.AGENT_INTERRUPTED]: 503,
  [AgentErrorCodes.AGENT_RECURSION]: 409,
};

const StartBody = z.strictObject({ agent: z.string().min(1), input: z.string(), sessionId: z.string().min(1).optional() });
const DecisionBody = z.strictObject({ decision: z.enum(['allow', 'deny']) });
const STATUSES = new Set<string>(['queued', 'running', 'suspended', 'completed', 'failed', 'cancelled']);

function failure(error: unknown): HttpReply {
  if (error instanceof MisterSmithError) {
    return { status: STATUS_BY_CODE[error.code] ?? 500, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: String((error as Error)?.message ?? error) } } };
}

function badBody(issues: z.core.$ZodIssue[]): HttpReply {
  return { status: 400, body: { error: { code: AgentErrorCodes.AGENT_BAD_INPUT, message: issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } } };
}

async function guarded(work: () => Promise<HttpReply>): Promise<HttpReply> {
  try {
    return await work();
  } catch (error) {
    return failure(error);
  }
}

export function mountRoutes(http: HttpService, agents: AgentService): () => Promise<void> {
  const removers = [
    http.route('GET', '/agents', () => ({
      body: agents.list().map((a) => ({
        name: a.name,
        provider: a.provider,
        model: a.model,
        tools: a.tools ?? [],
        maxConcurrentRuns: a.maxConcurrentRuns,
        budget: a.budget ?? {},
      })),
    })),
    http.route('GET', '/agents/runs', (req: HttpRequest) => {
      const agent = req.query.get('agent') ?? undefined;
      const status = req.query.get('status') ?? undefined;
      if (status !== undefined && !STATUSES.has(status)) return { status: 400, body: { error: { code: AgentErrorCodes.AGENT_BAD_INPUT, message: `unknown status '${status}'` } } };
      return { body: agents.runs({ ...(agent !== undefined ? { agent } : {}), ...(status !== undefined ? { status: status as RunStatus } : {}) }) };
    }),
    http.route('POST', '/agents/runs', (req) =>
      guarded(async () => {
        const body = StartBody.safeParse(req.body);
        if (!body.success) return badBody(body.error.issues);
        // A traced caller's run joins its trace; a malformed header (some proxy's) is ignored, as W3C asks.
        const traceparent = req.headers.traceparent;
        const { runId } = await agents.start(body.data.agent, body.data.input, {
          ...(body.data.sessionId !== undefined ? { sessionId: body.data.sessionId } : {}),
          ...(isTraceparent(traceparent) ? { traceparent } : {}),
        });
        return { status: 202, body: { runId } };
      }),
    ),
    http.route('GET', '/agents/runs/:id', (req) =>
      guarded(async () => {
        const detail = await agents.get(req.params.id!);
        if (detail === undefined) return { status: 404, body: { error: { code: AgentErrorCodes.AGENT_RUN_NOT_FOUND, message: `no run with id '${req.params.id}'` } } };
        return { body: detail };
      }),
    ),
    http.route('GET', '/agents/runs/:id/events', async (req, res) => {
      // A reconnecting EventSource sends the id of the last record it got: continue after it.
      const lastEventId = req.headers['last-event-id'];
      const after = typeof lastEventId === 'string' && lastEventId.length > 0 ? lastEventId : undefined;
      const iterator = agents.follow(req.params.id!, after !== undefined ? { after } : {})[Symbol.asyncIterator]();
      let first: IteratorResult<unknown>;
      try {
        first = await iterator.next();
      } catch (error) {
        return failure(error);
      }
      // Nothing after the client's last record, and the run is over: 204 tells an EventSource to stop reconnecting.
      if (first.done) return { status: 204 };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const onAbort = (): void => void iterator.return?.();
      req.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (let item: IteratorResult<unknown> = first; !item.done; item = await iterator.next()) {
          const chunk = item.value as { type: string; id?: string };
          res.write(`${chunk.id ? `id: ${chunk.id}\n` : ''}event: ${chunk.type}\ndata: ${JSON.stringify(chunk)}\n\n`);
          if (req.signal.aborted) break;
        }
      } catch (error) {
        const e = error as { code?: string; message?: string };
        res.write(`event: error\ndata: ${JSON.stringify({ code: e.code ?? 'INTERNAL', message: e.message })}\n\n`);
      } finally {
        req.signal.removeEventListener('abort', onAbort);
        res.end();
      }
      return undefined;
    }),
    http.route('POST', '/agents/runs/:id/approvals/:callId', (req) =>
      guarded(async () => {
        const body = DecisionBody.safeParse(req.body);
        if (!body.success) return badBody(body.error.issues);
        await agents.approve(req.params.id!, req.params.callId!, body.data.decision);
        return { status: 202, body: { runId: req.params.id, callId: req.params.callId, decision: body.data.decision } };
      }),
    ),
    http.route('POST', '/agents/runs/:id/cancel', (req) =>
      guarded(async () => {
        await agents.cancel(req.params.id!);
        return { status: 202, body: { runId: req.params.id } };
      }),
    ),
  ];
  return async () => {
    for (const remove of removers) await remove();
  };
}
