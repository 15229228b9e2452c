/**
 * The two ways an HTTP model API answers one request — a stream of server-sent events or one JSON
 * body — read the same way by every HTTP provider: `completeFrom` for a whole answer, `streamFrom`
 * for text deltas then the answer. Either accepts either shape, since servers differ in whether
 * they honour a `stream` flag. The request is disposed when reading ends, however it ends.
 */
import type { OpenRequest } from './openRequest.js';

/** What a provider's stream yields: text as it comes, then the whole answer. */
export type AnswerChunk<R> = { readonly type: 'text.delta'; readonly text: string } | { readonly type: 'response'; readonly response: R };

/** How one provider reads its API's two shapes. */
export interface AnswerReader<R> {
  /** The chunks of an event-stream body, ending with the `response` chunk. */
  readStream(call: OpenRequest): AsyncIterable<AnswerChunk<R>>;
  /** The answer of a JSON body. */
  fromJson(text: string): R;
}

const isEventStream = (call: OpenRequest): boolean => (call.res.headers.get('content-type') ?? '').includes('text/event-stream');

async function bodyText(call: OpenRequest): Promise<string> {
  try {
    return await call.res.text();
  } catch (error) {
    throw call.failure(error);
  }
}

/** The whole answer, whichever shape the server sent. */
export async function completeFrom<R>(call: OpenRequest, reader: AnswerReader<R>): Promise<R> {
  try {
    if (!isEventStream(call)) return reader.fromJson(await bodyText(call));
    let response: R | undefined;
    for await (const chunk of reader.readStream(call)) if (chunk.type === 'response') response = chunk.response;
    return response!;
  } finally {
    call.dispose();
  }
}

/** Text deltas then the answer; a server that answered in one piece gives its reply as one delta. */
export async function* streamFrom<R extends { readonly reply?: string }>(call: OpenRequest, reader: AnswerReader<R>): AsyncGenerator<AnswerChunk<R>> {
  try {
    if (isEventStream(call)) {
      yield* reader.readStream(call);
      return;
    }
    const response = reader.fromJson(await bodyText(call));
    if (response.reply !== undefined && response.reply !== '') yield { type: 'text.delta', text: response.reply };
    yield { type: 'response', response };
  } finally {
    call.dispose();
  }
}
