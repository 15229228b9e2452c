/**
 * A Server-Sent Events reader over a fetch body: yields each event's name and data as they arrive.
 * It does not interpret the data (each API ends its stream its own way).
 */

/** One event of the stream. */
export interface SseEvent {
  /** The `event:` field; `message` when absent. */
  readonly event: string;
  readonly data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      // Walk the lines by index and cut the buffer once per chunk: slicing per line would copy the
      // rest of a large chunk for every event in it.
      let start = 0;
      let nl: number;
      while ((nl = buffer.indexOf('\n', start)) !== -1) {
        const end = nl > start && buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        const line = buffer.slice(start, end);
        start = nl + 1;
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n') };
          event = 'message';
          data = [];
        } else if (line.charCodeAt(0) === 58 /* ':' */) {
          // a comment (keep-alive)
        } else {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
        }
      }
      buffer = start === 0 ? buffer : buffer.slice(start);
    }
    // An event not closed by a blank line when the body ends is incomplete: it is dropped, as the
    // SSE specification says, and the caller sees the stream end without its terminator.
  } finally {
    // A consumer that stops early (an error event, a cancelled run) closes the connection.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
