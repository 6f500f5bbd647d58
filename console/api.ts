// The console's only way to data and changes: the API itself, called in-process with the
// session's credential. A page therefore gets exactly what a client of the API gets (roles,
// tenant isolation, validation, problem codes, audit), and nothing the API does not offer.
import type { Hono } from 'hono';

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: Array<{ path: string; code: string; message: string }>;
}

/** An answer of 400 or more, as the API gave it. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

// Hono's request() is what every app has; the console does not care which routes it holds.
type Requestable = Pick<Hono, 'request'>;

export class ApiClient {
  constructor(private readonly app: Requestable, private readonly credential: string) {}

  async call<T>(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; text?: boolean } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credential}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.app.request(path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    if (res.status >= 400) {
      const problem = await res.json().catch(() => ({})) as Partial<Problem>;
      throw new ApiProblem({
        status: res.status, code: problem.code ?? 'unknown', title: problem.title ?? res.statusText, detail: problem.detail, errors: problem.errors,
      });
    }
    const body = res.status === 204 ? undefined : opts.text ? await res.text() : await res.json();
    return { status: res.status, body: body as T, headers: res.headers };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.call<T>('GET', path)).body;
  }

  async text(path: string): Promise<string> {
    return (await this.call<string>('GET', path, { text: true })).body;
  }

  /** Every item of a paged collection (nextCursor), up to `max`. */
  async all<T>(path: string, max = 5000): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: { items: T[]; nextCursor: string | null } = await this.get(`${path}${sep}limit=500${after}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < max);
    return items;
  }
}

/** A path segment, escaped. */
export const seg = (s: string) => encodeURIComponent(s);
