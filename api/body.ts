// Request bodies: read once, capped, then served to every reader (validators, c.req.json()) from
// Hono's body cache.
//
// On Node, @hono/node-server hands each request its IncomingMessage as `c.env.incoming`. Reading
// a body through the Fetch Request instead makes the adapter build a full undici Request with a
// web ReadableStream around the socket: a quarter of the API's CPU under the status-report load in
// bench/. So there the bytes are read from the IncomingMessage directly. Anywhere else (Workers,
// `app.request` in tests) Hono's own bodyLimit reads the Fetch body. Nothing Node-only is imported.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** What this module needs of a Node IncomingMessage (duck-typed: app code stays runtime-neutral). */
interface NodeIncoming {
  headers: Record<string, string | string[] | undefined>;
  readableDidRead: boolean;
  destroyed: boolean;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

function nodeIncoming(c: Context): NodeIncoming | undefined {
  const incoming = (c.env as { incoming?: Partial<NodeIncoming> } | undefined)?.incoming;
  return incoming && typeof incoming.on === 'function' && typeof incoming.headers === 'object' && incoming.readableDidRead === false
    ? incoming as NodeIncoming : undefined;
}

/** The whole body, or undefined as soon as it grows past `maxSize` (the rest is left unread). */
function readCapped(incoming: NodeIncoming, maxSize: number, clientGone: () => Error): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    if (incoming.destroyed) {
      reject(clientGone());
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > maxSize) {
        done();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      const body = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(body);
    };
    // A socket error or close before the end is the client going away (a cancelled request, a
    // load balancer's timeout): an answer nobody reads, not a server fault to log as one.
    const onError = () => {
      done();
      reject(clientGone());
    };
    const onClose = () => onError();
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/**
 * Caps request bodies at `maxSize` bytes; `tooLarge` throws the error to answer with, `clientGone`
 * makes the one for a client that left before its body ended. GET and HEAD (every agent poll) carry
 * no body and pass straight through.
 */
export function limitRequestBody(maxSize: number, tooLarge: () => never, clientGone: () => Error): MiddlewareHandler {
  const viaFetchBody = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const incoming = nodeIncoming(c);
    if (!incoming) return viaFetchBody(c, next);
    const declared = incoming.headers['content-length'];
    if (typeof declared === 'string' && Number(declared) > maxSize) tooLarge();
    const body = await readCapped(incoming, maxSize, clientGone);
    if (!body) tooLarge();
    // Decoded as Request.text() decodes (UTF-8, a leading BOM dropped, bad bytes replaced);
    // c.req.json(), text() and arrayBuffer() all start from the cached text. (Hono keeps promises
    // in its body cache, though its type says values.)
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(new TextDecoder().decode(body));
    return next();
  };
}
