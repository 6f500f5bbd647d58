// The typed client of the API for the CLI's client verbs: openapi-fetch over the types generated
// from /openapi.json (cli/api-types.ts, `npm run generate:client`). Paths, parameters, bodies and
// answers are checked by the compiler against the document; an answer of 400 or more is thrown as
// a ProblemError (RFC 9457 problem+json, with its stable `code`), so a call that returns succeeded.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './api-types.ts';

export type Problem = components['schemas']['Problem'];
export type FieldError = NonNullable<Problem['errors']>[number];
export type ApiClient = Client<paths>;

/** An error answer of the API: its status, stable code, detail and per-field errors. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  /** Stable and machine-readable (docs/problem-codes.md); `unexpected-response` when the answer was no problem+json. */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** One per field that failed validation (validation-failed, policy-violation, …); empty otherwise. */
  readonly errors: FieldError[];
  /** Quote it when reporting a server error; absent when the answer was no problem (e.g. a proxy's). */
  readonly requestId: string | undefined;
  /** The whole problem, with the extensions some codes carry (e.g. in-use's referencedBy). */
  readonly problem: Record<string, unknown>;

  constructor(status: number, problem: Record<string, unknown>) {
    const text = (key: string) => (typeof problem[key] === 'string' ? problem[key] : undefined);
    const code = text('code') ?? 'unexpected-response';
    const detail = text('detail') ?? '';
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.title = text('title') ?? '';
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors as FieldError[] : [];
    this.requestId = text('requestId');
    this.problem = problem;
  }
}

/** The ProblemError an error answer stands for (a body that is no problem becomes its detail). */
export async function problemOf(response: Response): Promise<ProblemError> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') {
    return new ProblemError(response.status, body as Record<string, unknown>);
  }
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const type = response.headers.get('content-type') ?? 'no content type';
  return new ProblemError(response.status, {
    title: response.statusText,
    detail: `HTTP ${response.status} ${response.statusText} (${type})${excerpt ? `: ${excerpt}` : ''}`,
  });
}

const throwProblems: Middleware = {
  async onResponse({ response }) {
    if (response.status >= 400) throw await problemOf(response);
    return undefined;
  },
};

export interface ApiClientOptions {
  /** The API's URL, e.g. https://metalfleet.example.net (what `metalfleet serve` listens on). */
  baseUrl: string;
  /** An API token (`mft_…`) or an OIDC token, sent as `Authorization: Bearer`; none for public operations. */
  token?: string | undefined;
  /** Another fetch (tests hand requests to the app in-process). */
  fetch?: (request: Request) => Promise<Response>;
}

/** The openapi-fetch client of the API, authenticated, throwing ProblemError on 4xx and 5xx answers. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.token !== undefined ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(throwProblems);
  return client;
}
