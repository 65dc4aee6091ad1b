import { expectDocumented, type OpenApiDocument } from './openapi-check.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The parsed body when it is JSON, else null. */
  json: unknown;
  bytes: Buffer;
  text: string;
}

export interface ApiCallOptions {
  /** Bearer token; undefined: the client's default, null: none at all. */
  token?: string | null;
  /** Sent as JSON. */
  body?: unknown;
}

/**
 * Calls on the daemon's HTTP API as a client would (fetch, bearer token, JSON), and `documented`:
 * the same call with its body checked against the schema the OpenAPI document gives for that
 * route and status. Port and document are asked for at each call: they exist once the test has started.
 */
export function apiClient(port: () => number, defaultToken: string, openapi: () => OpenApiDocument) {
  async function call(method: string, urlPath: string, options: ApiCallOptions = {}): Promise<ApiAnswer> {
    const token = options.token === undefined ? defaultToken : options.token;
    const res = await fetch(`http://127.0.0.1:${port()}${urlPath}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    const json = res.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as unknown) : null;
    return { status: res.status, headers: res.headers, json, bytes, text };
  }
  async function documented(method: string, template: string, urlPath: string, options: ApiCallOptions = {}): Promise<ApiAnswer> {
    const answer = await call(method, urlPath, options);
    expectDocumented(openapi(), method, template, urlPath, answer);
    return answer;
  }
  return { call, documented };
}
